import Foundation
import GRDB
import LEMStore

/// A fresh store in a temporary directory, removed when the value is released.
public final class TempDatabase {
    public let directory: URL
    public let store: ResultStore

    /// A fresh, empty store.
    public init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("lemstore-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try ResultStore(url: directory.appendingPathComponent("test.sqlite"))
    }

    /// Writes `text` to a file in the temporary directory and returns its URL.
    public func file(_ name: String, _ text: String) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        return url
    }

    deinit { try? FileManager.default.removeItem(at: directory) }
}

extension TempDatabase {
    /// A store holding the benchmark `mini`: `count` questions `Q1`… ("question number N").
    public static func mini(count: Int = 5) throws -> TempDatabase {
        let db = try TempDatabase()
        var q = ""
        for i in 1...count {
            q += #"{"id": "Q\#(i)", "benchmark": "mini", "question": "question number \#(i)"}"# + "\n"
        }
        _ = try LEMImporter(store: db.store).importPaths([try db.file("mini.jsonl", q)])
        return db
    }
}

/// Reads one value synchronously (usable from async tests, where GRDB prefers its async overloads).
public func scalar<T: DatabaseValueConvertible & StatementColumnConvertible>(
    _ store: ResultStore, _ sql: String, as: T.Type
) throws -> T? {
    try store.pool.read { try T.fetchOne($0, sql: sql) }
}
