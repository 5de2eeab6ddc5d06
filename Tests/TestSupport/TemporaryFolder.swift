import Foundation

/// A fresh folder under the system temporary directory for one test.
public enum TemporaryFolder {
    /// Creates `<tmp>/<prefix>-<UUID>`, runs `body` with it and removes it afterwards.
    public static func with<T>(_ prefix: String, _ body: (URL) throws -> T) throws -> T {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        return try body(dir)
    }
}
