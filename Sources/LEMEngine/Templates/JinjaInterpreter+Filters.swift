import Foundation
import LEMFormats

extension JinjaInterpreter {
    /// Attribute access: dict keys first, then the methods of strings, dicts and lists.
    func attribute(_ target: JinjaValue, _ name: String) throws -> JinjaValue {
        switch target {
        case .object(let o):
            if let v = o.values[name] { return v }
            return method(target, name) ?? .undefined
        case .namespace(let ns): return ns.values[name] ?? .undefined
        case .undefined, .none: return .undefined
        default: return method(target, name) ?? .undefined
        }
    }

    private func bound(_ name: String, _ f: @escaping ([JinjaValue], [(String, JinjaValue)]) throws -> JinjaValue)
        -> JinjaValue
    {
        .callable(JinjaCallable(name: name, call: f))
    }

    /// `s.replace(old, new)` within the size limit (the result's size is known before it is built).
    func replace(_ s: String, _ old: String, _ new: String) throws -> String {
        guard !old.isEmpty, new.utf8.count > old.utf8.count else { return s.replacingOccurrences(of: old, with: new) }
        let occurrences = s.components(separatedBy: old).count - 1
        let (growth, o1) = (new.utf8.count - old.utf8.count).multipliedReportingOverflow(by: occurrences)
        let (total, o2) = s.utf8.count.addingReportingOverflow(growth)
        try checkBytes(o1 || o2 ? .max : total)
        return s.replacingOccurrences(of: old, with: new)
    }

    /// The items' texts joined by `separator`, within the size limit.
    func join(_ items: [JinjaValue], separator: String) throws -> String {
        var out = JinjaTextSink(limit: limits.maxBytes)
        for (k, item) in items.enumerated() {
            try budget.spend()
            if k > 0 { try out.append(separator) }
            try item.writeDisplay(to: &out)
        }
        return out.text
    }

    /// Python-style string-strip of any of `chars` (whitespace when nil).
    static func strip(_ s: String, _ chars: String?, left: Bool, right: Bool) -> String {
        let set = chars.map { Set($0.unicodeScalars) }
        func strippable(_ u: Unicode.Scalar) -> Bool { set?.contains(u) ?? u.properties.isWhitespace }
        var scalars = Substring(s).unicodeScalars[...]
        if left { while let f = scalars.first, strippable(f) { scalars.removeFirst() } }
        if right { while let l = scalars.last, strippable(l) { scalars.removeLast() } }
        return String(String.UnicodeScalarView(scalars))
    }

    /// Bound methods (`s.strip()`, `d.items()`, …).
    private func method(_ target: JinjaValue, _ name: String) -> JinjaValue? {
        switch target {
        case .string(let s):
            switch name {
            case "strip", "lstrip", "rstrip":
                return bound(name) { [unowned self] args, _ in
                    let chars = try args.first.flatMap { $0.isNoneOrUndefined ? nil : try self.text($0) }
                    return .string(Self.strip(s, chars, left: name != "rstrip", right: name != "lstrip"))
                }
            case "startswith", "endswith":
                return bound(name) { [unowned self] args, _ in
                    var options: [String] = []
                    if case .array(let a)? = args.first {
                        options = try a.map(self.text)
                    } else {
                        options = [try args.first.map(self.text) ?? ""]
                    }
                    return .bool(options.contains { name == "startswith" ? s.hasPrefix($0) : s.hasSuffix($0) })
                }
            case "split", "rsplit":
                return bound(name) { [unowned self] args, kwargs in
                    let sepValue = args.first ?? kwargs.first { $0.0 == "sep" }?.1
                    var maxSplit = -1
                    if args.count > 1, case .int(let m) = args[1] { maxSplit = m }
                    if let sepValue, !sepValue.isNoneOrUndefined {
                        let sep = try self.text(sepValue)
                        guard !sep.isEmpty else { throw self.fail("empty separator") }
                        var parts = s.components(separatedBy: sep)
                        try self.checkCount(parts.count)
                        if maxSplit >= 0, parts.count > maxSplit + 1 {
                            if name == "split" {
                                parts = Array(parts[..<maxSplit]) + [parts[maxSplit...].joined(separator: sep)]
                            } else {
                                let keep = parts.count - maxSplit
                                parts = [parts[..<keep].joined(separator: sep)] + Array(parts[keep...])
                            }
                        }
                        return .array(parts.map { .string($0) })
                    }
                    let words = s.split(whereSeparator: { $0.isWhitespace })
                    try self.checkCount(words.count)
                    return .array(words.map { .string(String($0)) })
                }
            case "upper": return bound(name) { _, _ in .string(s.uppercased()) }
            case "lower": return bound(name) { _, _ in .string(s.lowercased()) }
            case "title": return bound(name) { _, _ in .string(Self.title(s)) }
            case "capitalize": return bound(name) { _, _ in .string(Self.capitalize(s)) }
            case "replace":
                return bound(name) { [unowned self] args, _ in
                    guard args.count >= 2 else { return .string(s) }
                    return .string(try self.replace(s, try self.text(args[0]), try self.text(args[1])))
                }
            case "find":
                return bound(name) { [unowned self] args, _ in
                    guard let needle = try args.first.map(self.text), let r = s.range(of: needle) else {
                        return .int(-1)
                    }
                    return .int(s.distance(from: s.startIndex, to: r.lowerBound))
                }
            case "count":
                return bound(name) { [unowned self] args, _ in
                    let needle = try args.first.map(self.text) ?? ""
                    return .int(needle.isEmpty ? s.count + 1 : s.components(separatedBy: needle).count - 1)
                }
            case "join":
                return bound(name) { [unowned self] args, _ in
                    guard let a = try args.first.flatMap(self.listItems) else { return .string("") }
                    return .string(try self.join(a, separator: s))
                }
            case "isdigit": return bound(name) { _, _ in .bool(!s.isEmpty && s.allSatisfy(\.isNumber)) }
            case "isspace": return bound(name) { _, _ in .bool(!s.isEmpty && s.allSatisfy(\.isWhitespace)) }
            default: return nil
            }
        case .object(let o):
            switch name {
            case "items": return bound(name) { _, _ in .array(o.keys.map { .array([.string($0), o.values[$0]!]) }) }
            case "keys": return bound(name) { _, _ in .array(o.keys.map { .string($0) }) }
            case "values": return bound(name) { _, _ in .array(o.keys.map { o.values[$0]! }) }
            case "get":
                return bound(name) { [unowned self] args, _ in
                    guard let key = args.first else { return .none }
                    return o.values[try self.text(key)] ?? (args.count > 1 ? args[1] : .none)
                }
            default: return nil
            }
        default: return nil
        }
    }

    static func capitalize(_ s: String) -> String {
        guard let f = s.first else { return s }
        return f.uppercased() + s.dropFirst().lowercased()
    }

    static func title(_ s: String) -> String {
        var out = ""
        var previousIsLetter = false
        for c in s {
            out += previousIsLetter ? c.lowercased() : c.uppercased()
            previousIsLetter = c.isLetter
        }
        return out
    }

    /// Applies a `|filter`.
    func applyFilter(_ name: String, _ v: JinjaValue, _ args: [JinjaValue], _ kwargs: [(String, JinjaValue)]) throws
        -> JinjaValue
    {
        func kw(_ key: String, _ position: Int) -> JinjaValue? {
            kwargs.first { $0.0 == key }?.1 ?? (position < args.count ? args[position] : nil)
        }
        switch name {
        case "trim": return .string(Self.strip(try text(v), try kw("chars", 0).map(text), left: true, right: true))
        case "length", "count":
            switch v {
            case .string(let s): return .int(s.count)
            case .array(let a): return .int(a.count)
            case .range(let r): return .int(r.count)
            case .object(let o): return .int(o.keys.count)
            case .undefined: return .int(0)
            default: throw fail("object of type '\(v.typeName)' has no length")
            }
        case "upper": return .string(try text(v).uppercased())
        case "lower": return .string(try text(v).lowercased())
        case "capitalize": return .string(Self.capitalize(try text(v)))
        case "title": return .string(Self.title(try text(v)))
        case "string": return .string(try text(v))
        case "safe", "e", "escape": return v
        case "int": return try integer(v, default: kw("default", 0) ?? .int(0))
        case "float":
            if let n = v.number { return .double(n) }
            if case .string(let s) = v { return .double(Double(s.trimmingCharacters(in: .whitespaces)) ?? 0) }
            return .double(0)
        case "abs":
            switch v.arithmetic {
            case .int(let i):
                guard i != .min else { throw fail("integer result of abs(\(i)) does not fit in 64 bits") }
                return .int(abs(i))
            case .double(let d): return .double(abs(d))
            default: throw fail("bad operand type for abs(): '\(v.typeName)'")
            }
        case "tojson":
            var indent: Int?
            if case .int(let i)? = kw("indent", 0)?.arithmetic { indent = i }
            if case .range = v { throw fail("Object of type range is not JSON serializable") }
            var out = JinjaTextSink(limit: limits.maxBytes)
            try v.writeJSON(to: &out, indent: indent)
            return .string(out.text)
        case "first", "last":
            switch v {
            case .array(let a): return (name == "first" ? a.first : a.last) ?? .undefined
            case .range(let r): return r.count == 0 ? .undefined : .int(r.item(name == "first" ? 0 : r.count - 1))
            case .string(let s): return (name == "first" ? s.first : s.last).map { .string(String($0)) } ?? .undefined
            default: return .undefined
            }
        case "default", "d":
            let fallback = kw("default_value", 0) ?? .string("")
            let boolean = kw("boolean", 1)?.truthy ?? false
            if v.isUndefined || (boolean && !v.truthy) { return fallback }
            return v
        case "join":
            let sep = try kw("d", 0).map(text) ?? ""
            guard var items = try listItems(v) else { return .string(try text(v)) }
            if let attr = try kw("attribute", 1).map(text) { items = try items.map { try attribute($0, attr) } }
            return .string(try join(items, separator: sep))
        case "replace":
            guard args.count >= 2 else { throw fail("replace filter needs two arguments") }
            return .string(try replace(try text(v), try text(args[0]), try text(args[1])))
        case "list":
            switch v {
            case .array, .range: return .array(try listItems(v) ?? [])
            case .string(let s):
                try checkCount(s.unicodeScalars.count)
                return .array(s.map { .string(String($0)) })
            case .object(let o): return .array(o.keys.map { .string($0) })
            default: return .array([])
            }
        case "reverse":
            switch v {
            case .array, .range: return .array(try listItems(v)?.reversed() ?? [])
            case .string(let s): return .string(String(s.reversed()))
            default: return v
            }
        case "items":
            guard case .object(let o) = v else { return .array([]) }
            return .array(o.keys.map { .array([.string($0), o.values[$0]!]) })
        case "selectattr", "rejectattr", "select", "reject":
            guard let items = try listItems(v) else { return .array([]) }
            let byAttribute = name.hasSuffix("attr")
            let attr = byAttribute ? try args.first.map(text) ?? "" : ""
            let testArgs = Array(args.dropFirst(byAttribute ? 1 : 0))
            let testName = try testArgs.first.map(text)
            let keep = name.hasPrefix("select")
            return .array(
                try items.filter { item in
                    try budget.spend()
                    let subject = byAttribute ? try attribute(item, attr) : item
                    let passed =
                        try testName.map { try applyTest($0, subject, Array(testArgs.dropFirst())) } ?? subject.truthy
                    return passed == keep
                })
        case "map":
            guard let items = try listItems(v) else { return .array([]) }
            if let attr = kwargs.first(where: { $0.0 == "attribute" })?.1 {
                let key = try text(attr)
                return .array(
                    try items.map {
                        try budget.spend()
                        return try attribute($0, key)
                    })
            }
            guard let filterName = try args.first.map(text) else { throw fail("map needs a filter name or attribute=") }
            return .array(
                try items.map {
                    try budget.spend()
                    return try applyFilter(filterName, $0, Array(args.dropFirst()), [])
                })
        case "unique":
            guard let items = try listItems(v) else { return v }
            var out: [JinjaValue] = []
            for item in items where try !out.contains(where: { try isEqual($0, item) }) { out.append(item) }
            return .array(out)
        case "indent":
            var width = 4
            if case .int(let w)? = kw("width", 0)?.arithmetic { width = max(0, w) }  // Python: " " * -5 == ""
            let first = kw("first", 1)?.truthy ?? false
            let blank = kw("blank", 2)?.truthy ?? false
            let lines = try text(v).components(separatedBy: "\n")
            let source = lines.reduce(0) { $0 + $1.utf8.count + 1 }
            let (pads, o1) = width.multipliedReportingOverflow(by: lines.count)
            let (total, o2) = source.addingReportingOverflow(pads)
            try checkBytes(o1 || o2 ? .max : total)
            let pad = String(repeating: " ", count: width)
            return .string(
                lines.enumerated().map { k, l in
                    (k == 0 && !first) || (l.isEmpty && !blank) ? l : pad + l
                }.joined(separator: "\n"))
        case "round":
            let digits: Int
            if case .int(let p)? = kw("precision", 0)?.arithmetic {
                digits = min(max(p, -400), 400)
            } else {
                digits = 0
            }
            guard let x = v.number else { return v }
            let m = pow(10.0, Double(digits))
            guard m.isFinite, m != 0, (x * m).isFinite else { return .double(x) }
            return .double((x * m).rounded(.toNearestOrEven) / m)
        case "wordcount": return .int(try text(v).split(whereSeparator: { $0.isWhitespace }).count)
        default:
            throw fail("unknown filter '\(ErrorText.clip(name))'")
        }
    }

    /// Jinja's `int` filter: Python `int()`, then `int(float())`, else the default; a value past
    /// 64 bits (which Python would keep as a big integer) and infinity are errors.
    private func integer(_ v: JinjaValue, default fallback: JinjaValue) throws -> JinjaValue {
        func fromDouble(_ d: Double) throws -> JinjaValue {
            if d.isNaN { return fallback }  // Python: ValueError, caught by the filter
            guard let i = Int(exactly: d.rounded(.towardZero)) else {
                throw fail("cannot convert \(JinjaValue.formatDouble(d)) to a 64-bit integer")
            }
            return .int(i)
        }
        switch v {
        case .int: return v
        case .bool(let b): return .int(b ? 1 : 0)
        case .double(let d): return try fromDouble(d)
        case .string(let raw):
            let s = raw.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "_", with: "")
            if let i = Int(s) { return .int(i) }
            let digits = s.drop { $0 == "+" || $0 == "-" }
            if !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) {
                throw fail("integer \(ErrorText.clip(s, limit: 40)) does not fit in 64 bits")
            }
            guard let d = Double(s) else { return fallback }
            return try fromDouble(d)
        default: return fallback
        }
    }

    /// The tests of a value's type (`none`, `mapping`, `number`, `integer`, `float`, `boolean`,
    /// `true`, `false`, `callable`); nil for any other test.
    static func typeTest(_ name: String, _ v: JinjaValue) -> Bool? {
        switch (name, v) {
        case ("none", .none), ("mapping", .object), ("number", .int), ("number", .double), ("integer", .int),
            ("float", .double), ("boolean", .bool), ("true", .bool(true)), ("false", .bool(false)),
            ("callable", .callable):
            return true
        case ("none", _), ("mapping", _), ("number", _), ("integer", _), ("float", _), ("boolean", _), ("true", _),
            ("false", _), ("callable", _):
            return false
        default:
            return nil
        }
    }

    /// Applies an `is test`.
    func applyTest(_ name: String, _ v: JinjaValue, _ args: [JinjaValue]) throws -> Bool {
        if let isType = Self.typeTest(name, v) { return isType }
        switch name {
        case "defined": return !v.isUndefined
        case "undefined": return v.isUndefined
        case "string": return v.isString
        case "sequence", "iterable":
            switch v {
            case .array, .range, .string, .object: return true
            default: return false
            }
        case "odd", "even":
            guard case .int(let i) = v else { throw fail("test '\(name)' needs an integer") }
            return (i % 2 != 0) == (name == "odd")
        case "divisibleby":
            guard case .int(let i) = v.arithmetic, case .int(let d)? = args.first?.arithmetic, d != 0 else {
                throw fail("divisibleby needs integers")
            }
            return d == -1 || i % d == 0
        case "equalto", "eq", "==", "sameas": return try isEqual(v, args.first ?? .undefined)
        case "ne", "!=": return !(try isEqual(v, args.first ?? .undefined))
        case "in":
            guard let container = args.first else { return false }
            if case .array(let a) = container { return try a.contains { try isEqual($0, v) } }
            if case .string(let s) = container { return s.contains(try text(v)) }
            if case .object(let o) = container { return o.values[try text(v)] != nil }
            if case .range(let r) = container, case .int(let i) = v.arithmetic { return r.contains(i) }
            return false
        case "lower":
            let t = try text(v)
            return t == t.lowercased()
        case "upper":
            let t = try text(v)
            return t == t.uppercased()
        default: throw fail("unknown test '\(ErrorText.clip(name))'")
        }
    }
}
