import Foundation
import LEMCore

/// Block-style YAML for the configs other trainers read (mlx_lm's PyYAML loader, TRL's parser),
/// written by hand so keys keep their order and each can carry a comment.
///
/// Strings are always double-quoted with JSON's escapes (valid YAML 1.1 and 1.2), so a path
/// such as `no` or `1e5` is never read back as a boolean or a number. Floats always have a
/// decimal point and a signed exponent (`1.0e-05`): PyYAML's default resolver reads `1e-05` as a
/// string, and TRL's parser uses that resolver.
enum YAMLText {
    /// One top-level key, its value and an optional comment written on the lines above it.
    struct Entry {
        var key: String
        var value: JSONValue
        var comment: String?

        init(_ key: String, _ value: JSONValue, comment: String? = nil) {
            self.key = key
            self.value = value
            self.comment = comment
        }
    }

    /// The document: an optional header comment, then each entry.
    static func document(_ entries: [Entry], header: String? = nil) -> String {
        var out = ""
        if let header { out += commentLines(header, indent: "") }
        for entry in entries {
            if let comment = entry.comment { out += commentLines(comment, indent: "") }
            out += pair(entry.key, entry.value, indent: "")
        }
        return out
    }

    /// `# ` before every line of `text`.
    static func commentLines(_ text: String, indent: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { "\(indent)# \($0)\n" }.joined()
    }

    private static func pair(_ key: String, _ value: JSONValue, indent: String) -> String {
        let name = plainKey(key)
        switch value {
        case .object(let members) where !members.isEmpty:
            return "\(indent)\(name):\n" + members.map { pair($0.key, $0.value, indent: indent + "  ") }.joined()
        default:
            return "\(indent)\(name): \(flow(value))\n"
        }
    }

    /// A value on one line: scalars, and lists and maps in flow style.
    static func flow(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return number(d)
        case .string(let s): return JSONText.quote(s)
        case .array(let items): return "[" + items.map(flow).joined(separator: ", ") + "]"
        case .object(let members):
            return "{" + members.map { "\(plainKey($0.key)): \(flow($0.value))" }.joined(separator: ", ") + "}"
        }
    }

    /// A float YAML 1.1 resolvers read as a float: `20.0`, `0.0001`, `1.0e-05`, `.nan`, `.inf`.
    static func number(_ d: Double) -> String {
        if d.isNaN { return ".nan" }
        if d.isInfinite { return d < 0 ? "-.inf" : ".inf" }
        var text = "\(d)"  // Swift's shortest round-trip form: "20.0", "1e-05", "1.5e+20"
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }), !text[..<e].contains(".") {
            text.insert(contentsOf: ".0", at: e)
        }
        return text
    }

    /// `key` bare when it is a plain identifier (`lora_parameters`, `self_attn.q_proj`), else quoted.
    private static func plainKey(_ key: String) -> String {
        let scalars = key.unicodeScalars
        guard let first = scalars.first, isLetter(first) || first == "_" else { return JSONText.quote(key) }
        let plain = scalars.allSatisfy { isLetter($0) || isDigit($0) || $0 == "_" || $0 == "." }
        return plain ? key : JSONText.quote(key)
    }

    private static func isLetter(_ u: Unicode.Scalar) -> Bool { ("a"..."z").contains(u) || ("A"..."Z").contains(u) }
    private static func isDigit(_ u: Unicode.Scalar) -> Bool { ("0"..."9").contains(u) }
}
