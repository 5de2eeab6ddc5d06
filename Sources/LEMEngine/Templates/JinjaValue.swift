import LEMCore
import Foundation
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
        case .object(let o): return !o.keys.isEmpty
        case .namespace, .callable: return true
        }
    }

    var isUndefined: Bool { if case .undefined = self { return true }; return false }

    /// Text as `{{ }}` prints it (Python `str`).
    var display: String {
        switch self {
        case .undefined: return ""
        case .string(let s): return s
        default: return repr
        }
    }

    /// Python `repr`-like text (strings quoted), used inside containers.
    var repr: String {
        switch self {
        case .undefined: return ""
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .double(let d): return JinjaValue.formatDouble(d)
        case .string(let s):
            let quote = s.contains("'") && !s.contains("\"") ? "\"" : "'"
            var body = s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
            if quote == "'" { body = body.replacingOccurrences(of: "'", with: "\\'") }
            return quote + body + quote
        case .array(let a): return "[" + a.map(\.repr).joined(separator: ", ") + "]"
        case .object(let o): return "{" + o.keys.map { "'\($0)': \(o.values[$0]!.repr)" }.joined(separator: ", ") + "}"
        case .namespace: return "<Namespace>"
        case .callable(let c): return "<function \(c.name)>"
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

    /// JSON text (Python `json.dumps` defaults: `", "` and `": "` separators, non-ASCII kept).
    func json(indent: Int?, level: Int = 0) -> String {
        switch self {
        case .undefined, .none: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return JinjaValue.formatDouble(d)
        case .string(let s): return JSONText.quote(s)
        case .array(let a):
            if a.isEmpty { return "[]" }
            guard let indent else { return "[" + a.map { $0.json(indent: nil) }.joined(separator: ", ") + "]" }
            let pad = String(repeating: " ", count: indent * (level + 1))
            let end = String(repeating: " ", count: indent * level)
            return "[\n" + a.map { pad + $0.json(indent: indent, level: level + 1) }.joined(separator: ",\n") + "\n" + end + "]"
        case .object(let o):
            if o.keys.isEmpty { return "{}" }
            guard let indent else {
                return "{" + o.keys.map { JSONText.quote($0) + ": " + o.values[$0]!.json(indent: nil) }
                    .joined(separator: ", ") + "}"
            }
            let pad = String(repeating: " ", count: indent * (level + 1))
            let end = String(repeating: " ", count: indent * level)
            return "{\n" + o.keys.map { pad + JSONText.quote($0) + ": " + o.values[$0]!.json(indent: indent, level: level + 1) }
                .joined(separator: ",\n") + "\n" + end + "}"
        case .namespace, .callable: return "null"
        }
    }

    /// Python `==` for the value kinds templates compare.
    static func equal(_ a: JinjaValue, _ b: JinjaValue) -> Bool {
        switch (a, b) {
        case (.undefined, .undefined), (.none, .none): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case let (.object(x), .object(y)):
            return Set(x.keys) == Set(y.keys) && x.keys.allSatisfy { equal(x.values[$0]!, y.values[$0]!) }
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
