import Foundation
import LEMCore

/// A tokenizer.json decoder: turns token pieces back into text.
public indirect enum TokenDecoder: Sendable {
    /// Joins pieces and maps GPT-2 stand-in characters back to bytes (invalid UTF-8 → U+FFFD).
    case byteLevel
    /// Replaces a literal string in every piece.
    case replace(pattern: String, content: String)
    /// Turns runs of `<0xNN>` pieces into the text their bytes spell.
    case byteFallback
    /// Joins all pieces into one.
    case fuse
    /// Removes up to `start` leading and `stop` trailing `content` characters from every piece.
    case strip(content: Unicode.Scalar, start: Int, stop: Int)
    /// SentencePiece metaspace: `replacement` → space, and the first piece loses its prepended space.
    case metaspace(replacement: Unicode.Scalar, prependScheme: String)
    /// Applies decoders in order.
    case sequence([TokenDecoder])

    /// Decodes pieces into a list of strings to join.
    public func apply(_ pieces: [String]) -> [String] {
        switch self {
        case .byteLevel:
            var bytes: [UInt8] = []
            for p in pieces { bytes.append(contentsOf: ByteLevel.decode(p)) }
            return [String(decoding: bytes, as: UTF8.self)]
        case let .replace(pattern, content):
            return pieces.map { TextOps.replace($0, pattern, content) }
        case .byteFallback:
            var out: [String] = []
            var pending: [UInt8] = []
            func flush() {
                guard !pending.isEmpty else { return }
                if let s = String(validating: pending, as: UTF8.self) {
                    out.append(s)
                } else {
                    out.append(contentsOf: Array(repeating: "\u{FFFD}", count: pending.count))
                }
                pending.removeAll()
            }
            for p in pieces {
                if let byte = TokenDecoder.byteValue(p) {
                    pending.append(byte)
                } else {
                    flush()
                    out.append(p)
                }
            }
            flush()
            return out
        case .fuse: return [pieces.joined()]
        case let .strip(content, start, stop):
            return pieces.map { piece in
                var chars = Substring(piece).unicodeScalars[...]
                var n = 0
                while n < start, chars.first == content {
                    chars.removeFirst()
                    n += 1
                }
                n = 0
                while n < stop, chars.last == content {
                    chars.removeLast()
                    n += 1
                }
                return String(String.UnicodeScalarView(chars))
            }
        case let .metaspace(replacement, scheme):
            return pieces.enumerated().map { i, piece in
                var s = Array(TextOps.replace(piece, String(replacement), " ").unicodeScalars)
                if i == 0 && scheme != "never" && s.first == " " { s.removeFirst() }
                return String(String.UnicodeScalarView(s))
            }
        case .sequence(let list): return list.reduce(pieces) { $1.apply($0) }
        }
    }

    /// The byte a `<0xNN>` piece stands for, or nil.
    static func byteValue(_ piece: String) -> UInt8? {
        let u = piece.utf8
        guard u.count == 6, piece.hasPrefix("<0x"), piece.hasSuffix(">") else { return nil }
        return UInt8(piece.dropFirst(3).prefix(2), radix: 16)
    }

    /// Parses a tokenizer.json `decoder` object.
    static func parse(_ json: JSONValue?, path: String) throws -> TokenDecoder? {
        guard case let (obj, type)? = try TokenizerError.typedComponent(json, "decoder", path: path) else { return nil }
        switch type {
        case "ByteLevel": return .byteLevel
        case "ByteFallback": return .byteFallback
        case "Fuse": return .fuse
        case "Replace":
            guard let pattern = obj["pattern"]?["String"]?.string else {
                throw TokenizerError.unsupported(path: path, feature: "decoder Replace with a regex pattern")
            }
            return .replace(pattern: pattern, content: obj["content"]?.string ?? "")
        case "Strip":
            let content = obj["content"]?.string?.unicodeScalars.first ?? " "
            return .strip(content: content, start: obj["start"]?.int ?? 0, stop: obj["stop"]?.int ?? 0)
        case "Metaspace":
            let replacement = obj["replacement"]?.string?.unicodeScalars.first ?? "\u{2581}"
            var scheme = obj["prepend_scheme"]?.string ?? "always"
            if let add = obj["add_prefix_space"]?.bool, obj["prepend_scheme"] == nil {
                scheme = add ? "always" : "never"
            }
            return .metaspace(replacement: replacement, prependScheme: scheme)
        case "Sequence":
            let list = obj["decoders"]?.array ?? []
            return .sequence(try list.compactMap { try parse($0, path: path) })
        default:
            throw TokenizerError.unsupported(path: path, feature: "decoder type \"\(type)\"")
        }
    }
}
