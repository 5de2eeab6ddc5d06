import Foundation
import LEMCore
import LEMFormats

/// Errors raised while loading a tokenizer or encoding text with it.
///
/// Every message names the file (or input) and what was expected, so a user can fix the cause.
public enum TokenizerError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A tokenizer file is missing, unreadable or malformed.
    case invalidFile(path: String, reason: String)
    /// The file uses a tokenizer feature this implementation does not support.
    case unsupported(path: String, feature: String)
    /// No tokenizer could be found at the given location.
    case notFound(path: String)
    /// The text to encode is not valid UTF-8.
    case invalidUTF8(byteOffset: Int)

    /// A human-readable description naming the file and the problem (at most 4 KB, control
    /// characters escaped).
    public var description: String { ErrorText.bounded(text) }

    private var text: String {
        switch self {
        case let .invalidFile(path, reason): return "\(path): invalid tokenizer: \(reason)"
        case let .unsupported(path, feature): return "\(path): unsupported tokenizer feature: \(feature)"
        case let .notFound(path):
            return "\(path): no tokenizer found (expected tokenizer.json in a model folder, or a .gguf file)"
        case let .invalidUTF8(offset): return "input text is not valid UTF-8 (first bad byte at offset \(offset))"
        }
    }
}

extension TokenizerError {
    /// A tokenizer.json component (`normalizer`, `pre_tokenizer`, `decoder`) and its `type`; nil
    /// when absent or null, an error naming `path` and `name` when it has no string `type`.
    static func typedComponent(_ json: JSONValue?, _ name: String, path: String) throws -> (JSONValue, String)? {
        guard let obj = json, !obj.isNull else { return nil }
        guard let type = obj["type"]?.string else {
            throw TokenizerError.invalidFile(path: path, reason: "\(name): expected an object with a \"type\"")
        }
        return (obj, type)
    }
}
