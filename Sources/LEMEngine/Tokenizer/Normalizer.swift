import Foundation
import LEMCore

/// A tokenizer.json normalizer: text rewriting applied to each piece of input between added tokens.
public indirect enum Normalizer: Sendable {
    /// Unicode canonical composition.
    case nfc
    /// Unicode canonical decomposition.
    case nfd
    /// Unicode compatibility composition.
    case nfkc
    /// Unicode compatibility decomposition.
    case nfkd
    /// Lower-cases the text.
    case lowercase
    /// Replaces every occurrence of a literal string.
    case replace(pattern: String, content: String)
    /// Prepends a string to non-empty text (SentencePiece's `▁`).
    case prepend(String)
    /// Removes leading and/or trailing whitespace.
    case strip(left: Bool, right: Bool)
    /// Applies normalizers in order.
    case sequence([Normalizer])

    /// The normalized form of `text`.
    public func apply(_ text: String) -> String {
        switch self {
        case .nfc: return text.precomposedStringWithCanonicalMapping
        case .nfd: return text.decomposedStringWithCanonicalMapping
        case .nfkc: return text.precomposedStringWithCompatibilityMapping
        case .nfkd: return text.decomposedStringWithCompatibilityMapping
        case .lowercase: return text.lowercased()
        case let .replace(pattern, content):
            return TextOps.replace(text, pattern, content)
        case let .prepend(prefix): return text.isEmpty ? text : prefix + text
        case let .strip(left, right):
            var scalars = Substring(text).unicodeScalars[...]
            if left { while let f = scalars.first, f.properties.isWhitespace { scalars.removeFirst() } }
            if right { while let l = scalars.last, l.properties.isWhitespace { scalars.removeLast() } }
            return String(String.UnicodeScalarView(scalars))
        case let .sequence(steps): return steps.reduce(text) { $1.apply($0) }
        }
    }

    /// Parses a tokenizer.json `normalizer` object.
    static func parse(_ json: JSONValue?, path: String) throws -> Normalizer? {
        guard case let (obj, type)? = try TokenizerError.typedComponent(json, "normalizer", path: path) else {
            return nil
        }
        switch type {
        case "NFC": return .nfc
        case "NFD": return .nfd
        case "NFKC": return .nfkc
        case "NFKD": return .nfkd
        case "Lowercase": return .lowercase
        case "Prepend": return .prepend(obj["prepend"]?.string ?? "")
        case "Strip":
            return .strip(left: obj["strip_left"]?.bool ?? true, right: obj["strip_right"]?.bool ?? true)
        case "Replace":
            guard let pattern = obj["pattern"]?["String"]?.string else {
                throw TokenizerError.unsupported(path: path, feature: "normalizer Replace with a regex pattern")
            }
            return .replace(pattern: pattern, content: obj["content"]?.string ?? "")
        case "Sequence":
            let list = obj["normalizers"]?.array ?? []
            return .sequence(try list.compactMap { try parse($0, path: path) })
        default:
            throw TokenizerError.unsupported(path: path, feature: "normalizer type \"\(type)\"")
        }
    }
}
