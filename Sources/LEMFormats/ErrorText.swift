/// Text taken from a file, made safe to show in an error message.
///
/// Model files come from strangers: a key, a token or a template line quoted in a message may be
/// megabytes long or hold terminal escape sequences. `clip` is for each such piece; `bounded`
/// is the last guard on a whole message (every error type of the engine applies it).
public enum ErrorText {
    /// The most bytes a message may have.
    public static let maxMessageBytes = 4096

    /// `text` with control characters (C0, DEL, C1 and the bidirectional overrides) written as
    /// `\u{1B}`-style escapes (`\n`, `\r`, `\t` as themselves escaped), cut after `limit`
    /// characters with a note of how many bytes were left out.
    public static func clip(_ text: some StringProtocol, limit: Int = 120) -> String {
        var out = ""
        var shown = 0
        for scalar in text.unicodeScalars {
            if shown == limit {
                let rest = text.utf8.count - consumedBytes(text, scalars: shown)
                return out + "… (\(rest) more bytes)"
            }
            out += escape(scalar, keepNewlines: false)
            shown += 1
        }
        return out
    }

    /// A whole message with control characters other than newline and tab escaped, cut in the
    /// middle to at most `maxMessageBytes` UTF-8 bytes (the start names the file, the end the
    /// reason, so both are kept).
    public static func bounded(_ message: String) -> String {
        var escaped = ""
        var needsEscape = false
        for scalar in message.unicodeScalars where isControl(scalar) && scalar != "\n" && scalar != "\t" {
            needsEscape = true
            break
        }
        if needsEscape {
            for scalar in message.unicodeScalars { escaped += escape(scalar, keepNewlines: true) }
        } else {
            escaped = message
        }
        let bytes = Array(escaped.utf8)
        guard bytes.count > maxMessageBytes else { return escaped }
        let head = prefixBoundary(bytes, 2900)
        let tail = suffixBoundary(bytes, 1000)
        let cut = bytes.count - head - tail
        return String(decoding: bytes[..<head], as: UTF8.self) + " … (\(cut) bytes cut) … "
            + String(decoding: bytes[(bytes.count - tail)...], as: UTF8.self)
    }

    static func isControl(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0..<0x20, 0x7F..<0xA0, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }

    private static func escape(_ s: Unicode.Scalar, keepNewlines: Bool) -> String {
        guard isControl(s) else { return String(s) }
        switch s {
        case "\n": return keepNewlines ? "\n" : "\\n"
        case "\t": return keepNewlines ? "\t" : "\\t"
        case "\r": return "\\r"
        default: return "\\u{" + String(s.value, radix: 16, uppercase: true) + "}"
        }
    }

    private static func consumedBytes(_ text: some StringProtocol, scalars: Int) -> Int {
        text.unicodeScalars.prefix(scalars).reduce(0) { $0 + UTF8.width($1) }
    }

    /// The largest prefix length ≤ n that does not split a UTF-8 sequence.
    private static func prefixBoundary(_ bytes: [UInt8], _ n: Int) -> Int {
        var k = min(n, bytes.count)
        while k > 0, k < bytes.count, bytes[k] & 0xC0 == 0x80 { k -= 1 }
        return k
    }

    /// The largest suffix length ≤ n that starts on a UTF-8 sequence boundary.
    private static func suffixBoundary(_ bytes: [UInt8], _ n: Int) -> Int {
        var k = min(n, bytes.count)
        while k > 0, bytes[bytes.count - k] & 0xC0 == 0x80 { k -= 1 }
        return k
    }
}
