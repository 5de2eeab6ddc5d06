import Foundation

/// A parsed JSON value: the one JSON type of every module (model configs, safetensors headers,
/// tokenizer files, LEM records, judge replies, reports).
///
/// Integers and fractions stay apart (`4096` is `.int`, `1e-06` and `3.0` are `.double`), and
/// objects keep their members in file order with keys compared byte for byte: Swift `String`
/// equality is canonical equivalence, which would merge distinct vocabulary entries such as
/// `"é"` and `"e\u{301}"`. `JSONValue.parse` is a recursive-descent parser over UTF-8 bytes with a
/// nesting limit; `jsonText` writes compact JSON.
public indirect enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// A number written without fraction or exponent that fits `Int`.
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// An object from a dictionary, members in sorted key order.
    public static func object(_ members: [String: JSONValue]) -> JSONValue { .object(JSONObject(members)) }

    /// The string, if this is a string.
    public var string: String? { if case .string(let s) = self { s } else { nil } }
    /// The boolean, if this is a boolean.
    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    /// The elements, if this is an array.
    public var array: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    /// The members, if this is an object.
    public var object: JSONObject? { if case .object(let o) = self { o } else { nil } }
    /// True for JSON null.
    public var isNull: Bool { self == .null }

    /// An integer, also from a double with no fractional part (`4096.0`).
    public var int: Int? {
        switch self {
        case .int(let i): i
        case .double(let d) where d.rounded() == d && abs(d) < 9e15: Int(d)
        default: nil
        }
    }

    /// A number as a double.
    public var double: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }

    /// The member `key` of an object (nil for other values or a missing key).
    public subscript(key: String) -> JSONValue? { object?[key] }

    /// A short description of the value's kind, for error messages.
    public var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .int: "an integer"
        case .double: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// The value as plain text for reference fields: strings as they are, numbers without a
    /// needless `.0`, null as empty, arrays and objects as compact JSON.
    public var text: String {
        switch self {
        case .null: ""
        case .string(let s): s
        default: jsonText()
        }
    }
}

/// The members of a JSON object, in file order, looked up by byte-exact key (first occurrence).
///
/// Two objects are equal when they have the same keys (byte for byte) with equal values,
/// whatever their order.
public struct JSONObject: Sendable, Hashable, RandomAccessCollection, ExpressibleByDictionaryLiteral {
    /// The members in order.
    public private(set) var members: [(key: String, value: JSONValue)]

    /// An object with these members, in this order.
    public init(members: [(key: String, value: JSONValue)] = []) { self.members = members }

    /// An object from a dictionary, members in sorted key order.
    public init(_ dictionary: [String: JSONValue]) {
        members = dictionary.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }.map { ($0.key, $0.value) }
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) { members = elements.map { ($0.0, $0.1) } }

    public var startIndex: Int { 0 }
    public var endIndex: Int { members.count }
    public subscript(position: Int) -> (key: String, value: JSONValue) { members[position] }

    /// The keys in order.
    public var keys: [String] { members.map(\.key) }

    /// The value of `key` (compared byte for byte; the first of duplicates), or nil.
    public subscript(key: String) -> JSONValue? {
        get { members.first { $0.key.utf8.elementsEqual(key.utf8) }?.value }
        set {
            let i = members.firstIndex { $0.key.utf8.elementsEqual(key.utf8) }
            switch (i, newValue) {
            case (let i?, let v?): members[i].value = v
            case (let i?, nil): members.remove(at: i)
            case (nil, let v?): members.append((key, v))
            case (nil, nil): break
            }
        }
    }

    /// The members as a dictionary (the first of duplicate keys wins; canonically equal keys
    /// merge, so use the object itself where byte-exact keys matter).
    public var dictionary: [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for (k, v) in members where out[k] == nil { out[k] = v }
        return out
    }

    private var sortedByBytes: [(key: String, value: JSONValue)] {
        members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
    }

    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        guard a.members.count == b.members.count else { return false }
        return zip(a.sortedByBytes, b.sortedByBytes).allSatisfy {
            $0.key.utf8.elementsEqual($1.key.utf8) && $0.value == $1.value
        }
    }

    public func hash(into hasher: inout Hasher) {
        for (k, v) in sortedByBytes {
            hasher.combine(Array(k.utf8))
            hasher.combine(v)
        }
    }
}

// MARK: Writing

extension JSONValue {
    /// Compact JSON text (`pretty`: two-space indents). Object members are written in sorted key
    /// order when `sortedKeys`, else in their order. Integral doubles below 1e15 are written as
    /// integers, non-finite ones as `null`; strings are escaped as Python's `json.dumps(...,
    /// ensure_ascii=False)` does.
    public func jsonText(sortedKeys: Bool = true, pretty: Bool = false) -> String {
        var out = ""
        write(into: &out, sortedKeys: sortedKeys, indent: pretty ? 0 : nil)
        return out
    }

    private func write(into out: inout String, sortedKeys: Bool, indent: Int?) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): out += Self.numberText(d)
        case .string(let s): out += JSONText.quote(s)
        case .array(let items):
            writeContainer(into: &out, open: "[", close: "]", count: items.count, indent: indent) { i, out, inner in
                items[i].write(into: &out, sortedKeys: sortedKeys, indent: inner)
            }
        case .object(let o):
            let members =
                sortedKeys ? o.members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) } : o.members
            writeContainer(into: &out, open: "{", close: "}", count: members.count, indent: indent) { i, out, inner in
                out += JSONText.quote(members[i].key) + (inner == nil ? ":" : ": ")
                members[i].value.write(into: &out, sortedKeys: sortedKeys, indent: inner)
            }
        }
    }

    private func writeContainer(
        into out: inout String, open: String, close: String, count: Int, indent: Int?,
        _ element: (Int, inout String, Int?) -> Void
    ) {
        out += open
        guard count > 0 else { return out += close }
        let inner = indent.map { $0 + 2 }
        for i in 0..<count {
            if i > 0 { out += "," }
            if let inner { out += "\n" + String(repeating: " ", count: inner) }
            element(i, &out, inner)
        }
        if let indent { out += "\n" + String(repeating: " ", count: indent) }
        out += close
    }

    /// A double as JSON: integral values below 1e15 without `.0`, others in Swift's shortest
    /// round-trip form, non-finite values as `null`.
    public static func numberText(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        if d.rounded() == d, abs(d) < 1e15 { return String(Int64(d)) }
        return "\(d)"
    }
}

// MARK: Codable

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int.self) {
            self = .int(i)
        } else if let d = try? c.decode(Double.self) {
            self = .double(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(JSONObject(try c.decode([String: JSONValue].self)))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d):
            if d.rounded() == d, abs(d) < 1e15 { try c.encode(Int64(d)) } else { try c.encode(d) }
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o.dictionary)
        }
    }
}
