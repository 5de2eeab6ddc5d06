import Foundation

/// A fresh directory under the system temp folder, removed when the value is deinitialized.
final class TemporaryDirectory {
    let url: URL

    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("lem-formats-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// Writes `bytes` to `name` in this directory and returns its URL.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) -> URL {
        let file = url.appendingPathComponent(name)
        _ = FileManager.default.createFile(atPath: file.path, contents: Data(bytes))
        return file
    }

    /// Writes a UTF-8 string to `name`.
    @discardableResult
    func write(_ name: String, text: String) -> URL { write(name, Array(text.utf8)) }

    /// A raw safetensors file: 8-byte length, the header text verbatim, then `data`.
    @discardableResult
    func writeSafetensors(_ name: String, header: String, data: [UInt8], headerLength: UInt64? = nil) -> URL {
        let h = Array(header.utf8)
        var bytes: [UInt8] = []
        withUnsafeBytes(of: (headerLength ?? UInt64(h.count)).littleEndian) { bytes.append(contentsOf: $0) }
        return write(name, bytes + h + data)
    }
}

/// The message of the error `body` throws, or nil when it does not throw.
func errorMessage(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch {
        return "\(error)"
    }
}
