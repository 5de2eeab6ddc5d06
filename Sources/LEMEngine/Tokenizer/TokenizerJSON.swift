import Foundation

/// A parsed JSON value that keeps object keys exactly as written.
///
/// Foundation's JSONSerialization bridges objects to `[String: Any]`, whose keys compare by
/// Unicode canonical equivalence, so `"é"` and `"e\u{301}"` — distinct tokens in real
/// vocabularies — collide. This small parser keeps keys byte-exact, in file order.
public indirect enum TokenizerJSON: Sendable {
    case null
    case bool(Bool)
    case number(Double, isInteger: Bool)
    case string(String)
    case array([TokenizerJSON])
    case object([(String, TokenizerJSON)])

    /// The member named `key` (first occurrence, compared byte for byte).
    public subscript(key: String) -> TokenizerJSON? {
        guard case .object(let pairs) = self else { return nil }
        return pairs.first { $0.0.utf8.elementsEqual(key.utf8) }?.1
    }

    /// The string value, if this is a string.
    public var string: String? { if case .string(let s) = self { return s }; return nil }
    /// The integer value, if this is an integral number.
    public var int: Int? { if case .number(let d, true) = self, abs(d) < 9e15 { return Int(d) }; return nil }
    /// The boolean value, if this is a boolean.
    public var bool: Bool? { if case .bool(let b) = self { return b }; return nil }
    /// The elements, if this is an array.
    public var array: [TokenizerJSON]? { if case .array(let a) = self { return a }; return nil }
    /// The members in file order, if this is an object.
    public var pairs: [(String, TokenizerJSON)]? { if case .object(let p) = self { return p }; return nil }
    /// True for JSON null.
    public var isNull: Bool { if case .null = self { return true }; return false }

    /// Parses JSON text; errors give the byte offset.
    public static func parse(_ data: Data) throws -> TokenizerJSON {
        try parse(data, skipping: []).value
    }

    /// Parses JSON text, but leaves the members at the dotted `skipping` paths (e.g.
    /// `model.vocab`) unparsed: they read as `null` and their byte ranges in `data` are returned,
    /// for a purpose-built scanner. Errors give the byte offset.
    static func parse(_ data: Data, skipping: Set<String>) throws -> (value: TokenizerJSON, skipped: [String: Range<Int>]) {
        try data.withUnsafeBytes { raw in
            var p = JSONParser(bytes: raw.bindMemory(to: UInt8.self))
            p.skipPaths = skipping
            p.skipSpace()
            let v = try p.value()
            p.skipSpace()
            guard p.i == p.bytes.count else { throw p.error("trailing characters") }
            return (v, p.skipped)
        }
    }
}

/// A recursive-descent JSON parser over UTF-8 bytes.
struct JSONParser {
    struct Failure: Error, CustomStringConvertible {
        var offset: Int
        var message: String
        var description: String { "JSON error at byte \(offset): \(message)" }
    }

    let bytes: UnsafeBufferPointer<UInt8>
    var i = 0
    var depth = 0
    /// Dotted member paths whose values are skipped, not parsed (see `TokenizerJSON.parse(_:skipping:)`).
    var skipPaths: Set<String> = []
    /// Byte ranges of the skipped values, by path.
    var skipped: [String: Range<Int>] = [:]
    /// Keys of the objects being parsed, outermost first (tracked only while `skipPaths` is set).
    var path: [String] = []

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    func error(_ message: String) -> Failure { Failure(offset: i, message: message) }

    mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    mutating func value() throws -> TokenizerJSON {
        guard i < bytes.count else { throw error("unexpected end of input") }
        switch bytes[i] {
        case UInt8(ascii: "{"):
            depth += 1
            guard depth < 512 else { throw error("nesting too deep") }
            defer { depth -= 1 }
            i += 1
            var pairs: [(String, TokenizerJSON)] = []
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(pairs) }
            while true {
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw error("expected a string key") }
                let key = try string()
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw error("expected ':'") }
                i += 1
                skipSpace()
                if !skipPaths.isEmpty {
                    let dotted = (path + [key]).joined(separator: ".")
                    if skipPaths.contains(dotted) {
                        let start = i
                        try skipValue()
                        skipped[dotted] = start ..< i
                        pairs.append((key, .null))
                    } else {
                        path.append(key)
                        defer { path.removeLast() }
                        pairs.append((key, try value()))
                    }
                } else {
                    pairs.append((key, try value()))
                }
                skipSpace()
                guard i < bytes.count else { throw error("unterminated object") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(pairs) }
                throw error("expected ',' or '}'")
            }
        case UInt8(ascii: "["):
            depth += 1
            guard depth < 512 else { throw error("nesting too deep") }
            defer { depth -= 1 }
            i += 1
            var items: [TokenizerJSON] = []
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            while true {
                skipSpace()
                items.append(try value())
                skipSpace()
                guard i < bytes.count else { throw error("unterminated array") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                throw error("expected ',' or ']'")
            }
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return try number()
        }
    }

    /// Moves past one JSON value without building it: strings (escapes included) and the
    /// brackets nested inside arrays and objects are matched, scalars skipped to the next
    /// delimiter. Only bracket balance is checked; the scanner that reads the range later
    /// validates the content.
    mutating func skipValue() throws {
        let start = i
        var nesting = 0
        repeat {
            guard i < bytes.count else { throw Failure(offset: start, message: "unterminated value") }
            switch bytes[i] {
            case UInt8(ascii: "\""):
                i += 1
                while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
                    i += bytes[i] == UInt8(ascii: "\\") ? 2 : 1
                }
                guard i < bytes.count else { throw Failure(offset: start, message: "unterminated string") }
                i += 1
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                nesting += 1
                i += 1
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                guard nesting > 0 else { throw error("unexpected bracket") }
                nesting -= 1
                i += 1
            default:
                if nesting == 0 {
                    // A scalar at the top of the skipped value: up to the next delimiter.
                    while i < bytes.count, ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]")].contains(bytes[i]) { i += 1 }
                    return
                }
                i += 1
            }
        } while nesting > 0
    }

    /// Reads a string at `i` (which must be a quote) into `out` as raw UTF-8 bytes with escapes
    /// resolved, without validating the UTF-8 or making a `String`.
    mutating func stringBytes(into out: inout [UInt8]) throws {
        let start = i
        guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw error("expected a string") }
        i += 1
        out.removeAll(keepingCapacity: true)
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                i += 1
                return
            }
            if b != UInt8(ascii: "\\") { out.append(b); i += 1; continue }
            i += 1
            guard i < bytes.count else { break }
            try appendEscape(to: &out)
        }
        throw Failure(offset: start, message: "unterminated string")
    }

    /// Reads a non-negative integer at `i`; nil (with `i` unchanged) when there is none or it
    /// has a fraction, exponent or sign.
    mutating func unsignedInteger() -> Int? {
        let start = i
        var value = 0
        while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39, value < 1 << 40 {
            value = value * 10 + Int(bytes[i] - 0x30)
            i += 1
        }
        if i == start || (i < bytes.count && [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[i])) {
            i = start
            return nil
        }
        return value
    }

    mutating func literal(_ word: String) throws {
        for b in word.utf8 {
            guard i < bytes.count, bytes[i] == b else { throw error("invalid literal") }
            i += 1
        }
    }

    mutating func number() throws -> TokenizerJSON {
        let start = i
        var isInteger = true
        while i < bytes.count {
            let b = bytes[i]
            if (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: "-") || b == UInt8(ascii: "+") {
                i += 1
            } else if b == UInt8(ascii: ".") || b == UInt8(ascii: "e") || b == UInt8(ascii: "E") {
                isInteger = false
                i += 1
            } else { break }
        }
        guard i > start, let d = Double(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)) else {
            throw Failure(offset: start, message: "invalid value")
        }
        return .number(d, isInteger: isInteger)
    }

    /// Resolves the escape whose letter is at `i` (just after a backslash), appending its UTF-8
    /// bytes to `out`; a `\uD8xx\uDCxx` surrogate pair becomes one scalar.
    mutating func appendEscape(to out: inout [UInt8]) throws {
        let e = bytes[i]
        i += 1
        switch e {
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "u"):
            var v = try hex4()
            if v >= 0xD800 && v < 0xDC00, i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") {
                let next = i
                i += 2
                let low = try hex4()
                if low >= 0xDC00 && low < 0xE000 {
                    v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    i = next  // a lone high surrogate (U+FFFD below); the next escape stands alone
                }
            }
            let scalar = Unicode.Scalar(v) ?? "\u{FFFD}"
            out.append(contentsOf: Array(String(scalar).utf8))
        default: out.append(e)
        }
    }

    mutating func hex4() throws -> UInt32 {
        guard i + 4 <= bytes.count,
              let v = UInt32(String(decoding: UnsafeBufferPointer(rebasing: bytes[i..<(i + 4)]), as: UTF8.self), radix: 16) else {
            throw error("bad \\u escape")
        }
        i += 4
        return v
    }

    mutating func string() throws -> String {
        i += 1
        let start = i
        // Fast path: no escapes.
        while i < bytes.count, bytes[i] != UInt8(ascii: "\""), bytes[i] != UInt8(ascii: "\\") { i += 1 }
        guard i < bytes.count else { throw Failure(offset: start, message: "unterminated string") }
        if bytes[i] == UInt8(ascii: "\"") {
            let s = UnsafeBufferPointer(rebasing: bytes[start..<i])
            i += 1
            guard let text = String(validating: s, as: UTF8.self) else { throw Failure(offset: start, message: "invalid UTF-8 in string") }
            return text
        }
        var out = Array(bytes[start..<i])
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                i += 1
                guard let text = String(validating: out, as: UTF8.self) else { throw Failure(offset: start, message: "invalid UTF-8 in string") }
                return text
            }
            if b != UInt8(ascii: "\\") { out.append(b); i += 1; continue }
            i += 1
            guard i < bytes.count else { break }
            try appendEscape(to: &out)
        }
        throw Failure(offset: start, message: "unterminated string")
    }
}

/// A dictionary key comparing strings byte for byte (Swift `String` equality is canonical
/// equivalence, which would merge distinct vocabulary entries such as "é" and "e\u{301}").
public struct PieceKey: Hashable, Sendable {
    /// The piece text.
    public let text: String

    /// Wraps a piece.
    public init(_ text: String) { self.text = text }

    public static func == (a: PieceKey, b: PieceKey) -> Bool { a.text.utf8.elementsEqual(b.text.utf8) }

    public func hash(into hasher: inout Hasher) {
        var copy = text
        copy.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
