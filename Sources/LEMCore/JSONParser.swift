import Foundation

/// A JSON syntax error: the byte offset and what was expected.
public struct JSONParseError: Error, CustomStringConvertible, Sendable, Equatable {
    public var offset: Int
    public var message: String
    public var description: String { "JSON error at byte \(offset): \(message)" }
}

extension JSONValue {
    /// Parses one JSON document (surrounding white space allowed).
    public static func parse(_ data: Data) throws -> JSONValue {
        try parse(data, skipping: []).value
    }

    /// Parses one JSON document from text.
    public static func parse(_ text: String) throws -> JSONValue { try parse(Data(text.utf8)) }

    /// Parses a document, but leaves the members at the dotted `skipping` paths (e.g.
    /// `model.vocab`) unparsed: they read as `null` and their byte ranges in `data` are returned,
    /// for a purpose-built scanner (a 262k-entry vocabulary).
    public static func parse(_ data: Data, skipping: Set<String>) throws -> (
        value: JSONValue, skipped: [String: Range<Int>]
    ) {
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

/// A recursive-descent JSON parser over UTF-8 bytes, with a nesting limit.
public struct JSONParser {
    /// Deepest nesting of arrays and objects accepted.
    public static let maxDepth = 512

    public let bytes: UnsafeBufferPointer<UInt8>
    /// The read position.
    public var i = 0
    var depth = 0
    /// Dotted member paths whose values are skipped, not parsed.
    var skipPaths: Set<String> = []
    /// Byte ranges of the skipped values, by path.
    var skipped: [String: Range<Int>] = [:]
    /// Keys of the objects being parsed, outermost first (tracked only while `skipPaths` is set).
    var path: [String] = []

    /// A parser at the start of `bytes`.
    public init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// An error at the read position.
    public func error(_ message: String) -> JSONParseError { JSONParseError(offset: i, message: message) }

    /// Moves past JSON white space.
    public mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    /// Reads one value at the read position.
    public mutating func value() throws -> JSONValue {
        guard i < bytes.count else { throw error("unexpected end of input") }
        switch bytes[i] {
        case UInt8(ascii: "{"):
            depth += 1
            guard depth <= Self.maxDepth else { throw error("nesting deeper than \(Self.maxDepth)") }
            defer { depth -= 1 }
            i += 1
            var members: [(key: String, value: JSONValue)] = []
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
                i += 1
                return .object(JSONObject(members: members))
            }
            while true {
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw error("expected a string key") }
                let key = try string()
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw error("expected ':'") }
                i += 1
                skipSpace()
                if skipPaths.isEmpty {
                    members.append((key, try value()))
                } else {
                    let dotted = (path + [key]).joined(separator: ".")
                    if skipPaths.contains(dotted) {
                        let start = i
                        try skipValue()
                        skipped[dotted] = start..<i
                        members.append((key, .null))
                    } else {
                        path.append(key)
                        defer { path.removeLast() }
                        members.append((key, try value()))
                    }
                }
                if try closes(UInt8(ascii: "}"), "object") { return .object(JSONObject(members: members)) }
            }
        case UInt8(ascii: "["):
            depth += 1
            guard depth <= Self.maxDepth else { throw error("nesting deeper than \(Self.maxDepth)") }
            defer { depth -= 1 }
            i += 1
            var items: [JSONValue] = []
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
                i += 1
                return .array(items)
            }
            while true {
                skipSpace()
                items.append(try value())
                if try closes(UInt8(ascii: "]"), "array") { return .array(items) }
            }
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        default: return try number()
        }
    }

    /// Moves past one value without building it: strings (escapes included) and nested brackets
    /// are matched, a scalar is skipped to the next delimiter. Only bracket balance is checked;
    /// whoever reads the range later validates the content.
    public mutating func skipValue() throws {
        let start = i
        var nesting = 0
        repeat {
            guard i < bytes.count else { throw JSONParseError(offset: start, message: "unterminated value") }
            switch bytes[i] {
            case UInt8(ascii: "\""):
                i += 1
                while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
                    i += bytes[i] == UInt8(ascii: "\\") ? 2 : 1
                }
                guard i < bytes.count else { throw JSONParseError(offset: start, message: "unterminated string") }
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
                    while i < bytes.count, bytes[i] != UInt8(ascii: ","), bytes[i] != UInt8(ascii: "}"),
                        bytes[i] != UInt8(ascii: "]")
                    {
                        i += 1
                    }
                    return
                }
                i += 1
            }
        } while nesting > 0
    }

    /// After an object member or array element: steps past a `,` (false) or the closing `close`
    /// (true); anything else is an error naming the `container`.
    mutating func closes(_ close: UInt8, _ container: String) throws -> Bool {
        skipSpace()
        guard i < bytes.count else { throw error("unterminated \(container)") }
        if bytes[i] == UInt8(ascii: ",") {
            i += 1
            return false
        }
        if bytes[i] == close {
            i += 1
            return true
        }
        throw error("expected ',' or '\(Character(Unicode.Scalar(close)))'")
    }

    /// Reads the string at `i` (a quote) into `out` as raw UTF-8 bytes with escapes resolved,
    /// without validating the UTF-8 or making a `String`.
    public mutating func stringBytes(into out: inout [UInt8]) throws {
        let start = i
        guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw error("expected a string") }
        i += 1
        out.removeAll(keepingCapacity: true)
        try finishString(into: &out, start: start)
    }

    /// Appends the rest of the string at `i` to `out`, escapes resolved, and steps past the closing
    /// quote; `start` is the offset an unterminated string is reported at.
    mutating func finishString(into out: inout [UInt8], start: Int) throws {
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                i += 1
                return
            }
            if b != UInt8(ascii: "\\") {
                out.append(b)
                i += 1
                continue
            }
            i += 1
            guard i < bytes.count else { break }
            try appendEscape(to: &out)
        }
        throw JSONParseError(offset: start, message: "unterminated string")
    }

    /// Reads a non-negative integer at `i`; nil (with `i` unchanged) when there is none, it has
    /// a fraction, exponent or sign, or it is 2^40 or more.
    public mutating func unsignedInteger() -> Int? {
        let start = i
        var value = 0
        while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 {
            guard value < 1 << 40 else {
                i = start
                return nil
            }
            value = value * 10 + Int(bytes[i] - 0x30)
            i += 1
        }
        if i == start
            || (i < bytes.count
                && (bytes[i] == UInt8(ascii: ".") || bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")))
        {
            i = start
            return nil
        }
        return value
    }

    mutating func literal(_ word: StaticString) throws {
        let start = i
        for k in 0..<word.utf8CodeUnitCount {
            guard i < bytes.count, bytes[i] == word.utf8Start[k] else {
                throw JSONParseError(offset: start, message: "invalid literal")
            }
            i += 1
        }
    }

    mutating func number() throws -> JSONValue {
        let start = i
        var isInteger = true
        while i < bytes.count {
            let b = bytes[i]
            if (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: "-") || b == UInt8(ascii: "+") {
                i += 1
            } else if b == UInt8(ascii: ".") || b == UInt8(ascii: "e") || b == UInt8(ascii: "E") {
                isInteger = false
                i += 1
            } else {
                break
            }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
        if isInteger, let n = Int(text) { return .int(n) }
        guard i > start, let d = Double(text) else {
            throw JSONParseError(offset: start, message: "invalid value")
        }
        return .double(d)
    }

    /// Resolves the escape whose letter is at `i` (just after a backslash), appending its UTF-8
    /// bytes; a `\uD8xx\uDCxx` surrogate pair becomes one scalar.
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
            if v >= 0xD800 && v < 0xDC00, i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"),
                bytes[i + 1] == UInt8(ascii: "u")
            {
                i += 2
                let low = try hex4()
                if low >= 0xDC00 && low < 0xE000 {
                    v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    // A lone high surrogate followed by another escape: both stand alone.
                    out.append(contentsOf: Array("\u{FFFD}".utf8))
                    v = low
                }
            }
            let scalar = Unicode.Scalar(v) ?? "\u{FFFD}"
            out.append(contentsOf: Array(String(scalar).utf8))
        default: out.append(e)
        }
    }

    mutating func hex4() throws -> UInt32 {
        guard i + 4 <= bytes.count,
            let v = UInt32(
                String(decoding: UnsafeBufferPointer(rebasing: bytes[i..<(i + 4)]), as: UTF8.self), radix: 16)
        else { throw error("bad \\u escape") }
        i += 4
        return v
    }

    /// Reads the string at `i` (a quote), validating its UTF-8.
    public mutating func string() throws -> String {
        i += 1
        let start = i
        // Fast path: no escapes.
        while i < bytes.count, bytes[i] != UInt8(ascii: "\""), bytes[i] != UInt8(ascii: "\\") { i += 1 }
        guard i < bytes.count else { throw JSONParseError(offset: start, message: "unterminated string") }
        if bytes[i] == UInt8(ascii: "\"") {
            let s = UnsafeBufferPointer(rebasing: bytes[start..<i])
            i += 1
            guard let text = String(validating: s, as: UTF8.self) else {
                throw JSONParseError(offset: start, message: "invalid UTF-8 in string")
            }
            return text
        }
        var out = Array(bytes[start..<i])
        try finishString(into: &out, start: start)
        guard let text = String(validating: out, as: UTF8.self) else {
            throw JSONParseError(offset: start, message: "invalid UTF-8 in string")
        }
        return text
    }
}
