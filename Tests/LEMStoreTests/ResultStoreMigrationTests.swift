import Foundation
import GRDB
import StoreTestSupport
import TestSupport
import Testing

@testable import LEMStore

/// Databases written by earlier versions open and keep their data.
@Suite("Result store migrations")
struct ResultStoreMigrationTests {
    @Test(
        "stores opening one new file at the same moment migrate it once, none failing (chat sessions and the Bench panel do)"
    )
    func concurrentFirstOpen() throws {
        for round in 0..<6 {
            try TemporaryFolder.with("lemstore-race") { dir in
                let url = dir.appendingPathComponent("new.sqlite")
                let failures = NSLock()
                nonisolated(unsafe) var errors: [String] = []
                // Eight threads of their own (not the shared dispatch pool, which a parallel test
                // run can starve while one of them holds the write lock), each waiting up to a
                // minute for the lock: what is tested is that the file is migrated once and no
                // opener fails, not how fast a loaded machine schedules them.
                let done = DispatchGroup()
                for _ in 0..<8 {
                    done.enter()
                    Thread {
                        do { _ = try ResultStore(url: url, busyTimeout: 60) } catch {
                            failures.withLock { errors.append("\(error)") }
                        }
                        done.leave()
                    }.start()
                }
                done.wait()
                #expect(errors.isEmpty, "round \(round): \(errors)")
                let store = try ResultStore(url: url)
                #expect(try store.read { try ResultStore.migrator.hasCompletedMigrations($0) })
            }
        }
    }

    @Test("a v2 database with a judge reply copied into every dimension keeps it once after v3")
    func judgeReplyOnce() throws {
        try TemporaryFolder.with("lemstore-mig") { dir in
            let url = dir.appendingPathComponent("old.sqlite")
            do {
                // The schema as version 2 left it, with rows as its judge pass and importer wrote them.
                let old = try DatabaseQueue(path: url.path)
                try ResultStore.migrator.migrate(old, upTo: "v2")
                try old.write { db in
                    try db.execute(
                        sql: """
                            INSERT INTO model (id, name, created_at) VALUES (1, 'm', 0);
                            INSERT INTO item (id, benchmark, key, prompt) VALUES (1, 'toxigen', 'T1', 'p'), (2, 'toxigen', 'T2', 'q');
                            INSERT INTO run (id, model_id, benchmark, origin, status, started_at) VALUES (1, 1, 'toxigen', 'run', 'complete', 0);
                            INSERT INTO response (id, run_id, item_id, text, created_at) VALUES (1, 1, 1, 'a', 0), (2, 1, 2, 'b', 0);
                            INSERT INTO score (response_id, scorer, scorer_version, dimension, value, status, raw, created_at) VALUES
                                (1, 'judge', 'r', 'kindness', NULL, 'unscored', 'the reply', 5),
                                (1, 'judge', 'r', 'awareness', NULL, 'unscored', 'the reply', 5),
                                (2, 'judge', 'r', 'kindness', 7, 'scored', NULL, 5),
                                (2, 'judge-imported', 'f', 'kindness', NULL, 'unscored', '"n/a"', 5);
                            """)
                }
            }
            let store = try ResultStore(url: url)
            #expect(try store.judgeReply(responseID: 1, scorer: "judge") == "the reply")
            #expect(try store.judgeReply(responseID: 2, scorer: "judge") == nil)
            #expect(try scalar(store, "SELECT COUNT(*) FROM judge_reply", as: Int.self) == 1)
            #expect(
                try scalar(store, "SELECT COUNT(*) FROM score WHERE scorer = 'judge' AND raw IS NOT NULL", as: Int.self)
                    == 0)
            // An imported non-numeric value is a per-dimension value, not a reply: it stays.
            #expect(
                try scalar(store, "SELECT raw FROM score WHERE scorer = 'judge-imported'", as: String.self) == #""n/a""#
            )
            #expect(try scalar(store, "SELECT COUNT(*) FROM score", as: Int.self) == 4)
            _ = try BenchReport.build(store: store)

            // A later verdict that reads drops the kept reply; an unreadable one keeps its own.
            try store.putScores(
                responseID: 1, scorer: "judge", version: "r",
                [StoredScore(dimension: "kindness", value: 8, status: .scored)])
            #expect(try store.judgeReply(responseID: 1, scorer: "judge") == nil)
            try store.putScores(
                responseID: 2, scorer: "judge", version: "r",
                [StoredScore(dimension: "kindness", value: nil, status: .unscored)], reply: "again")
            #expect(try store.judgeReply(responseID: 2, scorer: "judge") == "again")
        }
    }
}
