import Foundation
import GRDB
import LEMCore
import StoreTestSupport
import Testing

@testable import LEMStore

@Suite("LEMImporter")
struct LEMImporterTests {
    static let questions = """
        {"id": "GSM8K_001", "benchmark": "gsm8k", "question": "2+3?", "answer_cot": "2+3=5\\n#### 5", "correct_answer": "5"}
        {"id": "GSM8K_002", "benchmark": "gsm8k", "question": "10-4?", "answer_cot": "#### 6", "correct_answer": "6"}
        """
    static let results = """
        {"id": "GSM8K_001", "benchmark": "gsm8k", "model": "m1", "prompt": "2+3?", "response": "It is 5", "elapsed_seconds": 1.5}
        {"id": "GSM8K_002", "benchmark": "gsm8k", "model": "m1", "prompt": "10-4?", "response": "#### 7"}
        """

    func count(_ db: TempDatabase, _ table: String) throws -> Int {
        try db.store.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM \(table)")! }
    }

    /// A temporary store with the GSM8K questions imported.
    static func questionDatabase() throws -> TempDatabase {
        let db = try TempDatabase()
        _ = try LEMImporter(store: db.store).importPaths([try db.file("gsm8k.jsonl", questions)])
        return db
    }

    /// A temporary store with the GSM8K questions and model m1's results imported.
    static func resultsDatabase() throws -> TempDatabase {
        let db = try TempDatabase()
        _ = try LEMImporter(store: db.store).importPaths([
            try db.file("gsm8k.jsonl", questions), try db.file("results/gsm8k_m1.jsonl", results)
        ])
        return db
    }

    /// Writes `text` to `name` in the store's folder and imports it, expecting a located error.
    func failedImport(_ db: TempDatabase, _ name: String, _ text: String) throws -> (file: URL, error: LocatedError?) {
        let file = try db.file(name, text)
        let error = #expect(throws: LocatedError.self) { try LEMImporter(store: db.store).importPaths([file]) }
        return (file, error)
    }

    @Test("questions, results and GSM8K scoring on import")
    func importsAndScores() throws {
        let db = try TempDatabase()
        let s = try LEMImporter(store: db.store).importPaths([
            try db.file("results/gsm8k_m1.jsonl", Self.results), try db.file("gsm8k.jsonl", Self.questions)
        ])
        #expect(s.items == 2 && s.responses == 2 && s.scores == 6)
        let correct = try db.store.pool.read {
            try Double.fetchAll($0, sql: "SELECT value FROM score WHERE scorer = 'gsm8k-lem' ORDER BY response_id")
        }
        #expect(correct == [1, 0])
        let seconds = try db.store.pool.read {
            try Double.fetchOne($0, sql: "SELECT seconds FROM response WHERE id = 1")
        }
        #expect(seconds == 1.5)
        // Re-importing the same file updates in place rather than duplicating.
        _ = try LEMImporter(store: db.store).importPaths([db.directory.appendingPathComponent("results/gsm8k_m1.jsonl")]
        )
        #expect(try count(db, "response") == 2)
        #expect(try count(db, "run") == 1)
    }

    @Test("a broken line names file and line, and rolls back only that file")
    func brokenLine() throws {
        let db = try Self.questionDatabase()
        let (bad, error) = try failedImport(
            db, "results/gsm8k_m2.jsonl",
            """
            {"id": "GSM8K_001", "benchmark": "gsm8k", "model": "m2", "response": "5"}
            {"id": "GSM8K_002", "benchmark": "gsm8k", "model": "m2", "response": 
            """)
        #expect(error?.location == "\(bad.path):2")
        #expect(error?.message.contains("not valid JSON") == true)
        #expect(try count(db, "item") == 2)
        #expect(try count(db, "response") == 0)
        #expect(try count(db, "run") == 0)
    }

    @Test("an unknown model key in a score file is reported with its key path")
    func unknownModel() throws {
        let db = try Self.resultsDatabase()
        let before = try count(db, "score")
        let (scores, error) = try failedImport(
            db, "standard_scores.json",
            """
            {"scores": {"gsm8k": {"m1": {"GSM8K_001": {"correct": true}}, "nobody": {"GSM8K_001": {"correct": true}}}}}
            """)
        #expect(error?.location == "\(scores.path): scores.gsm8k.nobody")
        #expect(error?.message.contains("unknown model key `nobody`") == true)
        #expect(try count(db, "score") == before)
    }

    @Test("a results line whose model disagrees with the file name is rejected")
    func modelMismatch() throws {
        let db = try Self.questionDatabase()
        let (bad, error) = try failedImport(
            db, "gsm8k_m1.jsonl", #"{"id": "GSM8K_001", "benchmark": "gsm8k", "model": "m9", "response": "5"}"#)
        #expect(error?.description == "\(bad.path):1: unknown model key `m9`: the file name says `m1`")
    }

    @Test("a duplicate item names both lines; earlier imports survive")
    func duplicateItem() throws {
        let db = try Self.resultsDatabase()
        let (dup, error) = try failedImport(
            db, "results/gsm8k_m3.jsonl",
            """
            {"id": "GSM8K_001", "benchmark": "gsm8k", "model": "m3", "response": "5"}

            {"id": "GSM8K_001", "benchmark": "gsm8k", "model": "m3", "response": "6"}
            """)
        #expect(error?.description == "\(dup.path):3: duplicate item id `GSM8K_001` (first at line 1)")
        #expect(try count(db, "response") == 2)
    }

    @Test("seed files and missing fields")
    func seeds() throws {
        let db = try TempDatabase()
        let s = try LEMImporter(store: db.store).importPaths([
            try db.file(
                "P01.json",
                """
                [{"id": "P01", "domain": "identity", "prompt": "Who are you?"}]
                """)
        ])
        #expect(s.items == 1)
        let domain = try db.store.pool.read {
            try String.fetchOne($0, sql: "SELECT domain FROM item WHERE key = 'P01'")
        }
        #expect(domain == "identity")
        let bad = try db.file("gsm8k_x.jsonl", #"{"id": "Q", "question": 3}"#)
        let error = #expect(throws: LocatedError.self) { try LEMImporter(store: db.store).importPaths([bad]) }
        #expect(error?.description == "\(bad.path):1: field `question` should be a string, found an integer")
    }
}
