import Foundation
@testable import LEMStore

/// A fresh store in a temporary directory, removed when the value is released.
final class TempDatabase {
    let directory: URL
    let store: ResultStore

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("lemstore-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try ResultStore(url: directory.appendingPathComponent("test.sqlite"))
    }

    /// Writes `text` to a file in the temporary directory and returns its URL.
    func file(_ name: String, _ text: String) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        return url
    }

    deinit { try? FileManager.default.removeItem(at: directory) }
}
