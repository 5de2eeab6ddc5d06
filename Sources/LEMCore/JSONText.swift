import Foundation

/// Hand-written JSON text for writers that must control key order and formatting exactly
/// (safetensors headers, train logs, Jinja's `tojson`).
public enum JSONText {
    /// A JSON string literal for `s`, escaped as Python's `json.dumps` does with
    /// `ensure_ascii=False`: quote, backslash and the named control escapes, other control
    /// characters as `\u00XX`, everything else verbatim.
    public static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}
