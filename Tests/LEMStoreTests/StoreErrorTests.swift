import Foundation
import GRDB
import StoreTestSupport
import Testing

@testable import LEMStore

/// Database failures name the file and say what happened: a full disk, a damaged or foreign
/// file, a lock held too long, a read-only file.
@Suite("Store errors")
struct StoreErrorTests {
    /// A fresh folder, removed by the caller.
    static func folder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lemstore-err-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test("disk full (SQLITE_FULL, from a page limit): named as such with the path; committed rows are kept")
    func diskFull() throws {
        let db = try TempDatabase.mini()
        let (runID, _) = try db.store.openRun(RunSpec(model: "m", benchmark: "mini"))
        try db.store.recordResponse(runID: runID, itemID: 1, GeneratedResponse(text: "kept"))
        // The writer connection may not grow the file past its current pages: the next large row
        // fails as a full disk does.
        let pages = try #require(try scalar(db.store, "PRAGMA page_count", as: Int.self))
        try db.store.pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA max_page_count = \(pages + 1)") }
        let big = GeneratedResponse(text: String(repeating: "x", count: 1 << 20))
        let error = #expect(throws: StoreError.self) { try db.store.recordResponse(runID: runID, itemID: 2, big) }
        #expect(error?.kind == .diskFull)
        let text = error?.description ?? ""
        #expect(text.hasPrefix(db.store.url.path + ": disk full"))
        #expect(text.contains("database or disk is full") && text.utf8.count < 1000)
        #expect(try scalar(db.store, "SELECT text FROM response", as: String.self) == "kept")
    }

    @Test("a file that is not a database: the path and what to do, no SQL")
    func notADatabase() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("lem.sqlite")
        try Data(String(repeating: "this is not a database\n", count: 400).utf8).write(to: url)
        let error = #expect(throws: StoreError.self) { try ResultStore(url: url) }
        #expect(error?.kind == .damaged)
        #expect(error?.description.hasPrefix(url.path + ": not a LEM results database, or a damaged one") == true)
        #expect(error?.description.contains("file is not a database") == true)
    }

    @Test("a database whose pages were overwritten: damaged, with the path")
    func damagedPages() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("lem.sqlite")
        do {
            let store = try ResultStore(url: url)
            for i in 0..<200 {
                let (run, _) = try store.openRun(RunSpec(model: "m\(i)", benchmark: "b"))
                try store.setRunStatus(run, "complete")
            }
            try store.pool.writeWithoutTransaction { _ = try $0.checkpoint(.truncate) }
        }
        // Keep the header page, scramble the rest.
        let handle = try FileHandle(forUpdating: url)
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: 4096)
        try handle.write(contentsOf: Data(repeating: 0xA5, count: Int(size) - 4096))
        try handle.close()
        let error = #expect(throws: StoreError.self) {
            let store = try ResultStore(url: url)
            _ = try store.models()
            _ = try store.benchmarks()
        }
        #expect(error?.kind == .damaged)
        #expect(error?.description.hasPrefix(url.path + ": ") == true)
    }

    @Test("a lock held past the wait: locked, with the path")
    func locked() throws {
        let db = try TempDatabase.mini()
        let impatient = try ResultStore(url: db.store.url, busyTimeout: 0.1)
        let error = #expect(throws: StoreError.self) {
            // The other connection holds the write lock while `impatient` tries to write.
            try db.store.pool.write { holder in
                try holder.execute(sql: "UPDATE item SET domain = 'x'")
                _ = try impatient.openRun(RunSpec(model: "m", benchmark: "mini"))
            }
        }
        #expect(error?.kind == .locked)
        #expect(error?.description.hasPrefix(db.store.url.path + ": the database is locked by another process") == true)
    }

    @Test(
        "a read-only file: the path and the permissions to check",
        .enabled(if: getuid() != 0, "root writes read-only files"))
    func readOnly() throws {
        let db = try TempDatabase.mini()
        let path = db.store.url.path
        try db.store.pool.writeWithoutTransaction { _ = try $0.checkpoint(.truncate) }
        try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: path)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path) }
        let error = #expect(throws: StoreError.self) {
            let store = try ResultStore(url: db.store.url)
            _ = try store.openRun(RunSpec(model: "m", benchmark: "mini"))
        }
        #expect(error?.kind == .readOnly || error?.kind == .cannotOpen)
        #expect(error?.description.hasPrefix(path + ": ") == true)
    }

    @Test("every SQLite failure class has its message; other errors pass through unchanged")
    func classification() {
        let cases: [(ResultCode, StoreError.Kind, String)] = [
            (.SQLITE_FULL, .diskFull, "disk full"),
            (.SQLITE_READONLY, .readOnly, "cannot be written"),
            (.SQLITE_PERM, .readOnly, "cannot be written"),
            (.SQLITE_BUSY, .locked, "locked by another process"),
            (.SQLITE_LOCKED, .locked, "locked by another process"),
            (.SQLITE_CORRUPT, .damaged, "damaged"),
            (.SQLITE_NOTADB, .damaged, "not a LEM results database"),
            (.SQLITE_CANTOPEN, .cannotOpen, "cannot open or create"),
            (.SQLITE_IOERR, .io, "failed to read or write"),
            (.SQLITE_CONSTRAINT, .other(19), "SQLite error 19")
        ]
        for (code, kind, phrase) in cases {
            let wrapped = StoreError.wrapping(
                DatabaseError(resultCode: code, sql: "INSERT secret"), path: "/x/lem.sqlite")
            let error = wrapped as? StoreError
            #expect(error?.kind == kind, "\(code)")
            #expect(error?.description.hasPrefix("/x/lem.sqlite: ") == true)
            #expect(error?.description.contains(phrase) == true, "\(code): \(error?.description ?? "")")
            #expect(error?.description.contains("secret") == false)
        }
        let other = StoreError.wrapping(CancellationError(), path: "/x")
        #expect(other is CancellationError)
    }
}
