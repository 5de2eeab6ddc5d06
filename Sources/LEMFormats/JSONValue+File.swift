import Foundation
import LEMCore

extension JSONValue {
    /// Parses `data` as one JSON document; a syntax error becomes a `FormatError` naming `file`,
    /// `what` was being read and the byte offset.
    static func parse(_ data: Data, file: URL, what: String = "JSON") throws -> JSONValue {
        do {
            return try JSONValue.parse(data)
        } catch let e as JSONParseError {
            throw FormatError(file, "\(what) is not valid JSON: \(e.message) at byte \(e.offset)")
        }
    }
}
