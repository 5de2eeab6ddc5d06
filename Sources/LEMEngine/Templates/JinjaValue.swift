import Foundation
import LEMCore
import LEMFormats

/// A runtime value of the Jinja interpreter (Python semantics where chat templates rely on them).
enum JinjaValue {
    case undefined
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JinjaValue])
    /// `range(...)`, kept lazy: iterated and indexed without building the list.
    case range(JinjaRange)
    case object(JinjaObject)
    case namespace(JinjaNamespace)
    case callable(JinjaCallable)

    /// Python truthiness.
    var truthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .array(let a): return !a.isEmpty
        case .range(let r): return r.count > 0
        case .object(let o): return !o.keys.isEmpty
        case .namespace, .callable: return true
        }
    }

    var isUndefined: Bool {
        if case .undefined = self { return true }
        return false
    }

    /// Appends the text `{{ }}` prints (Python `str`) to `out`.
    func writeDisplay(to out: inout JinjaTextSink) throws(JinjaLimitExceeded) {
        switch self {
        case .undefined: return
        case .string(let s): try out.append(s)
        default: try writeRepr(to: &out)
        }
    }

    /// Appends Python `repr`-like text (strings quoted, as inside containers) to `out`.
    func writeRepr(to out: inout JinjaTextSink) throws(JinjaLimitExceeded) {
        switch self {
        case .undefined: return
        case .none: try out.append("None")
        case .bool(let b): try out.append(b ? "True" : "False")
        case .int(let i): try out.append(String(i))
        case .double(let d): try out.append(JinjaValue.formatDouble(d))
        case .string(let s):
            let quote = s.contains("'") && !s.contains("\"") ? "\"" : "'"
            var body = s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
            if quote == "'" { body = body.replacingOccurrences(of: "'", with: "\\'") }
            try out.append(quote + body + quote)
        case .array(let a):
            try out.append("[")
            for (k, item) in a.enumerated() {
                if k > 0 { try out.append(", ") }
                try item.writeRepr(to: &out)
            }
            try out.append("]")
        case .range(let r): try out.append(r.description)
        case .object(let o):
            try out.append("{")
            for (k, key) in o.keys.enumerated() {
                if k > 0 { try out.append(", ") }
                try JinjaValue.string(key).writeRepr(to: &out)
                try out.append(": ")
                try o.values[key]!.writeRepr(to: &out)
            }
            try out.append("}")
        case .namespace: try out.append("<Namespace>")
        case .callable(let c): try out.append("<function \(c.name)>")
        }
    }

    /// Python float formatting (`1.0`, `0.5`, `1e-05`).
    static func formatDouble(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d > 0 ? "inf" : "-inf" }
        if d == d.rounded(), abs(d) < 1e16 { return String(format: "%.1f", d) }
        return "\(d)"
    }

    /// Converts JSON-like Foundation values (from JSONSerialization) to Jinja values.
    init(json: Any?) {
        switch json {
        case nil, is NSNull: self = .none
        case let s as String: self = .string(s)
        case let n as NSNumber:
            let type = String(cString: n.objCType)
            if type == "c" || type == "B" {
                self = .bool(n.boolValue)
            } else if type == "d" || type == "f" {
                self = .double(n.doubleValue)
            } else {
                self = .int(n.intValue)
            }
        case let a as [Any]: self = .array(a.map { JinjaValue(json: $0) })
        case let o as [String: Any]:
            var obj = JinjaObject()
            for k in o.keys.sorted() { obj[k] = JinjaValue(json: o[k]) }
            self = .object(obj)
        default: self = .string("\(json!)")
        }
    }

    /// Appends JSON text (Python `json.dumps` defaults: `", "` and `": "` separators, non-ASCII
    /// kept; a negative indent indents by nothing, as `json.dumps` does).
    func writeJSON(to out: inout JinjaTextSink, indent: Int?, level: Int = 0) throws(JinjaLimitExceeded) {
        func newline(_ depth: Int) throws(JinjaLimitExceeded) {
            guard let indent else { return }
            let width = max(0, indent).multipliedReportingOverflow(by: depth)
            guard !width.overflow, width.partialValue <= out.remaining else { throw out.overflow() }
            try out.append("\n" + String(repeating: " ", count: width.partialValue))
        }
        switch self {
        case .undefined, .none: try out.append("null")
        case .bool(let b): try out.append(b ? "true" : "false")
        case .int(let i): try out.append(String(i))
        case .double(let d): try out.append(JinjaValue.formatDouble(d))
        case .string(let s): try out.append(JSONText.quote(s))
        case .array(let a):
            if a.isEmpty {
                try out.append("[]")
                return
            }
            try out.append("[")
            for (k, item) in a.enumerated() {
                if k > 0 { try out.append(indent == nil ? ", " : ",") }
                try newline(level + 1)
                try item.writeJSON(to: &out, indent: indent, level: level + 1)
            }
            try newline(level)
            try out.append("]")
        case .object(let o):
            if o.keys.isEmpty {
                try out.append("{}")
                return
            }
            try out.append("{")
            for (k, key) in o.keys.enumerated() {
                if k > 0 { try out.append(indent == nil ? ", " : ",") }
                try newline(level + 1)
                try out.append(JSONText.quote(key) + ": ")
                try o.values[key]!.writeJSON(to: &out, indent: indent, level: level + 1)
            }
            try newline(level)
            try out.append("}")
        case .range, .namespace, .callable: try out.append("null")
        }
    }

    /// Whether lists and dicts nest deeper than `limit` inside this value. Every item looked at
    /// takes one from `visits`; once it is below zero the answer is `true` and the caller reports
    /// the work limit instead (shared sub-lists make a value's unfolded size unbounded).
    func nestsDeeper(than limit: Int, visits: inout Int) -> Bool {
        switch self {
        case .array(let a):
            guard limit > 0 else { return true }
            for item in a {
                visits -= 1
                if visits < 0 || item.nestsDeeper(than: limit - 1, visits: &visits) { return true }
            }
            return false
        case .object(let o):
            guard limit > 0 else { return true }
            for item in o.values.values {
                visits -= 1
                if visits < 0 || item.nestsDeeper(than: limit - 1, visits: &visits) { return true }
            }
            return false
        default: return false
        }
    }

    /// Python `==` for the value kinds templates compare. Every pair compared takes one from
    /// `visits`; below zero the comparison stops (`false`) and the caller reports the work limit.
    static func equal(_ a: JinjaValue, _ b: JinjaValue, visits: inout Int) -> Bool {
        visits -= 1
        guard visits >= 0 else { return false }
        switch (a, b) {
        case (.undefined, .undefined), (.none, .none): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)):
            guard x.count == y.count else { return false }
            for (p, q) in zip(x, y) where !equal(p, q, visits: &visits) { return false }
            return true
        case let (.range(x), .range(y)):
            return x.count == y.count && (x.count == 0 || x.start == y.start && (x.count == 1 || x.step == y.step))
        case let (.object(x), .object(y)):
            guard Set(x.keys) == Set(y.keys) else { return false }
            for key in x.keys where !equal(x.values[key]!, y.values[key]!, visits: &visits) { return false }
            return true
        case let (.int(x), .int(y)): return x == y
        default:
            if let x = a.number, let y = b.number { return x == y }
            return false
        }
    }

    /// Numeric value (bools count as 0/1, as in Python).
    var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    /// Python type name for error messages.
    var typeName: String {
        switch self {
        case .undefined: return "undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .array: return "list"
        case .range: return "range"
        case .object: return "dict"
        case .namespace: return "Namespace"
        case .callable: return "function"
        }
    }
}

/// An insertion-ordered string-keyed dictionary (Python dict).
struct JinjaObject {
    var keys: [String] = []
    var values: [String: JinjaValue] = [:]

    subscript(key: String) -> JinjaValue? {
        get { values[key] }
        set {
            if values[key] == nil, newValue != nil { keys.append(key) }
            if newValue == nil { keys.removeAll { $0 == key } }
            values[key] = newValue
        }
    }
}

/// A mutable attribute bag (`namespace(...)`), shared by reference as in Jinja.
final class JinjaNamespace {
    var values: [String: JinjaValue]
    init(_ values: [String: JinjaValue]) { self.values = values }
}

/// A function value: a built-in, a bound method or a macro.
struct JinjaCallable {
    let name: String
    let call: ([JinjaValue], [(String, JinjaValue)]) throws -> JinjaValue
}

/// A lazy `range(start, stop, step)` (Python semantics; `count` fits an `Int`).
struct JinjaRange: Equatable, CustomStringConvertible {
    let start: Int
    let stop: Int
    let step: Int
    let count: Int

    /// nil when `step` is zero or the range has more than `Int.max` items.
    init?(start: Int, stop: Int, step: Int) {
        guard step != 0 else { return nil }
        self.start = start
        self.stop = stop
        self.step = step
        // The distance between two Ints always fits a UInt.
        let span: UInt
        let stride = step.magnitude
        if step > 0 {
            span = start < stop ? UInt(bitPattern: stop &- start) : 0
        } else {
            span = start > stop ? UInt(bitPattern: start &- stop) : 0
        }
        let n = span == 0 ? 0 : (span - 1) / stride + 1
        guard let count = Int(exactly: n) else { return nil }
        self.count = count
    }

    /// Item `k` (0 ≤ k < count); it lies between start and stop, so it cannot overflow.
    func item(_ k: Int) -> Int { start &+ k &* step }

    /// Whether `value` is one of the items.
    func contains(_ value: Int) -> Bool {
        guard count > 0 else { return false }
        let last = item(count - 1)
        guard value >= min(start, last), value <= max(start, last) else { return false }
        let offset = UInt(bitPattern: step > 0 ? value &- start : start &- value)
        return offset % step.magnitude == 0
    }

    /// Python's `repr`: `range(0, 3)`, `range(0, 10, 3)`.
    var description: String { step == 1 ? "range(\(start), \(stop))" : "range(\(start), \(stop), \(step))" }
}

/// Text being built under a byte limit (the output, a `join`, a `repr`).
struct JinjaTextSink {
    private(set) var text = ""
    let limit: Int

    init(limit: Int) { self.limit = limit }

    /// Bytes still allowed.
    var remaining: Int { limit - text.utf8.count }

    mutating func append(_ s: String) throws(JinjaLimitExceeded) {
        guard s.utf8.count <= remaining else { throw overflow() }
        text += s
    }

    func overflow() -> JinjaLimitExceeded { JinjaLimitExceeded("text longer than \(limit) bytes") }
}
