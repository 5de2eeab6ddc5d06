import Foundation

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

    private func bound(_ name: String, _ f: @escaping ([JinjaValue], [(String, JinjaValue)]) throws -> JinjaValue) -> JinjaValue {
        .callable(JinjaCallable(name: name, call: f))
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
                return bound(name) { args, _ in
                    let chars = args.first.flatMap { $0.isNoneOrUndefined ? nil : $0.display }
                    return .string(Self.strip(s, chars, left: name != "rstrip", right: name != "lstrip"))
                }
            case "startswith", "endswith":
                return bound(name) { args, _ in
                    var options: [String] = []
                    if case .array(let a)? = args.first { options = a.map(\.display) } else { options = [args.first?.display ?? ""] }
                    return .bool(options.contains { name == "startswith" ? s.hasPrefix($0) : s.hasSuffix($0) })
                }
            case "split", "rsplit":
                return bound(name) { [unowned self] args, kwargs in
                    let sepValue = args.first ?? kwargs.first { $0.0 == "sep" }?.1
                    var maxSplit = -1
                    if args.count > 1, case .int(let m) = args[1] { maxSplit = m }
                    if let sep = sepValue, !sep.isNoneOrUndefined {
                        guard !sep.display.isEmpty else { throw self.fail("empty separator") }
                        var parts = s.components(separatedBy: sep.display)
                        if maxSplit >= 0, parts.count > maxSplit + 1 {
                            if name == "split" {
                                parts = Array(parts[..<maxSplit]) + [parts[maxSplit...].joined(separator: sep.display)]
                            } else {
                                let keep = parts.count - maxSplit
                                parts = [parts[..<keep].joined(separator: sep.display)] + Array(parts[keep...])
                            }
                        }
                        return .array(parts.map { .string($0) })
                    }
                    return .array(s.split(whereSeparator: { $0.isWhitespace }).map { .string(String($0)) })
                }
            case "upper": return bound(name) { _, _ in .string(s.uppercased()) }
            case "lower": return bound(name) { _, _ in .string(s.lowercased()) }
            case "title": return bound(name) { _, _ in .string(Self.title(s)) }
            case "capitalize": return bound(name) { _, _ in .string(Self.capitalize(s)) }
            case "replace":
                return bound(name) { args, _ in
                    guard args.count >= 2 else { return .string(s) }
                    return .string(s.replacingOccurrences(of: args[0].display, with: args[1].display))
                }
            case "find":
                return bound(name) { args, _ in
                    guard let needle = args.first?.display, let r = s.range(of: needle) else { return .int(-1) }
                    return .int(s.distance(from: s.startIndex, to: r.lowerBound))
                }
            case "count":
                return bound(name) { args, _ in
                    let needle = args.first?.display ?? ""
                    return .int(needle.isEmpty ? s.count + 1 : s.components(separatedBy: needle).count - 1)
                }
            case "join":
                return bound(name) { args, _ in
                    guard case .array(let a)? = args.first else { return .string("") }
                    return .string(a.map(\.display).joined(separator: s))
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
                return bound(name) { args, _ in
                    guard let key = args.first else { return .none }
                    return o.values[key.display] ?? (args.count > 1 ? args[1] : .none)
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
    func applyFilter(_ name: String, _ v: JinjaValue, _ args: [JinjaValue], _ kwargs: [(String, JinjaValue)]) throws -> JinjaValue {
        func kw(_ key: String, _ position: Int) -> JinjaValue? {
            kwargs.first { $0.0 == key }?.1 ?? (position < args.count ? args[position] : nil)
        }
        switch name {
        case "trim": return .string(Self.strip(v.display, kw("chars", 0)?.display, left: true, right: true))
        case "length", "count":
            switch v {
            case .string(let s): return .int(s.count)
            case .array(let a): return .int(a.count)
            case .object(let o): return .int(o.keys.count)
            case .undefined: return .int(0)
            default: throw fail("object of type '\(v.typeName)' has no length")
            }
        case "upper": return .string(v.display.uppercased())
        case "lower": return .string(v.display.lowercased())
        case "capitalize": return .string(Self.capitalize(v.display))
        case "title": return .string(Self.title(v.display))
        case "string": return .string(v.display)
        case "safe", "e", "escape": return v
        case "int":
            switch v {
            case .int: return v
            case .double(let d): return .int(Int(d))
            case .bool(let b): return .int(b ? 1 : 0)
            case .string(let s): return .int(Int(s.trimmingCharacters(in: .whitespaces)) ?? Int(Double(s) ?? 0))
            default: return .int(0)
            }
        case "float":
            if let n = v.number { return .double(n) }
            if case .string(let s) = v { return .double(Double(s) ?? 0) }
            return .double(0)
        case "abs":
            switch v {
            case .int(let i): return .int(abs(i))
            case .double(let d): return .double(abs(d))
            default: throw fail("bad operand type for abs(): '\(v.typeName)'")
            }
        case "tojson":
            var indent: Int?
            if case .int(let i)? = kw("indent", 0) { indent = i }
            return .string(v.json(indent: indent))
        case "first", "last":
            switch v {
            case .array(let a): return (name == "first" ? a.first : a.last) ?? .undefined
            case .string(let s): return (name == "first" ? s.first : s.last).map { .string(String($0)) } ?? .undefined
            default: return .undefined
            }
        case "default", "d":
            let fallback = kw("default_value", 0) ?? .string("")
            let boolean = kw("boolean", 1)?.truthy ?? false
            if v.isUndefined || (boolean && !v.truthy) { return fallback }
            return v
        case "join":
            let sep = kw("d", 0)?.display ?? ""
            guard case .array(var items) = v else { return .string(v.display) }
            if let attr = kw("attribute", 1) { items = try items.map { try attribute($0, attr.display) } }
            return .string(items.map(\.display).joined(separator: sep))
        case "replace":
            guard args.count >= 2 else { throw fail("replace filter needs two arguments") }
            return .string(v.display.replacingOccurrences(of: args[0].display, with: args[1].display))
        case "list":
            switch v {
            case .array: return v
            case .string(let s): return .array(s.map { .string(String($0)) })
            case .object(let o): return .array(o.keys.map { .string($0) })
            default: return .array([])
            }
        case "reverse":
            switch v {
            case .array(let a): return .array(a.reversed())
            case .string(let s): return .string(String(s.reversed()))
            default: return v
            }
        case "items":
            guard case .object(let o) = v else { return .array([]) }
            return .array(o.keys.map { .array([.string($0), o.values[$0]!]) })
        case "selectattr", "rejectattr", "select", "reject":
            guard case .array(let items) = v else { return .array([]) }
            let byAttribute = name.hasSuffix("attr")
            let attr = byAttribute ? args.first?.display ?? "" : ""
            let testArgs = Array(args.dropFirst(byAttribute ? 1 : 0))
            let keep = name.hasPrefix("select")
            return .array(try items.filter { item in
                let subject = byAttribute ? try attribute(item, attr) : item
                let passed = testArgs.isEmpty ? subject.truthy
                    : try applyTest(testArgs[0].display, subject, Array(testArgs.dropFirst()))
                return passed == keep
            })
        case "map":
            guard case .array(let items) = v else { return .array([]) }
            if let attr = kwargs.first(where: { $0.0 == "attribute" })?.1 {
                return .array(try items.map { try attribute($0, attr.display) })
            }
            guard let filterName = args.first?.display else { throw fail("map needs a filter name or attribute=") }
            return .array(try items.map { try applyFilter(filterName, $0, Array(args.dropFirst()), []) })
        case "unique":
            guard case .array(let items) = v else { return v }
            var out: [JinjaValue] = []
            for item in items where !out.contains(where: { JinjaValue.equal($0, item) }) { out.append(item) }
            return .array(out)
        case "indent":
            var width = 4
            if case .int(let w)? = kw("width", 0) { width = w }
            let first = kw("first", 1)?.truthy ?? false
            let pad = String(repeating: " ", count: width)
            let lines = v.display.components(separatedBy: "\n")
            return .string(lines.enumerated().map { k, l in
                (k == 0 && !first) || l.isEmpty ? l : pad + l
            }.joined(separator: "\n"))
        case "round":
            let digits: Int
            if case .int(let p)? = kw("precision", 0) { digits = p } else { digits = 0 }
            guard let x = v.number else { return v }
            let m = pow(10.0, Double(digits))
            return .double((x * m).rounded(.toNearestOrEven) / m)
        case "wordcount": return .int(v.display.split(whereSeparator: { $0.isWhitespace }).count)
        default:
            throw fail("unknown filter '\(name)'")
        }
    }

    /// Applies an `is test`.
    func applyTest(_ name: String, _ v: JinjaValue, _ args: [JinjaValue]) throws -> Bool {
        switch name {
        case "defined": return !v.isUndefined
        case "undefined": return v.isUndefined
        case "none": if case .none = v { return true }; return false
        case "string": return v.isString
        case "mapping": if case .object = v { return true }; return false
        case "sequence", "iterable":
            switch v {
            case .array, .string, .object: return true
            default: return false
            }
        case "number": if case .int = v { return true }; if case .double = v { return true }; return false
        case "integer": if case .int = v { return true }; return false
        case "float": if case .double = v { return true }; return false
        case "boolean": if case .bool = v { return true }; return false
        case "true": if case .bool(true) = v { return true }; return false
        case "false": if case .bool(false) = v { return true }; return false
        case "callable": if case .callable = v { return true }; return false
        case "odd", "even":
            guard case .int(let i) = v else { throw fail("test '\(name)' needs an integer") }
            return (i % 2 != 0) == (name == "odd")
        case "divisibleby":
            guard case .int(let i) = v, case .int(let d)? = args.first, d != 0 else { throw fail("divisibleby needs integers") }
            return i % d == 0
        case "equalto", "eq", "==", "sameas": return JinjaValue.equal(v, args.first ?? .undefined)
        case "ne", "!=": return !JinjaValue.equal(v, args.first ?? .undefined)
        case "in":
            guard let container = args.first else { return false }
            if case .array(let a) = container { return a.contains { JinjaValue.equal($0, v) } }
            if case .string(let s) = container { return s.contains(v.display) }
            if case .object(let o) = container { return o.values[v.display] != nil }
            return false
        case "lower": return v.display == v.display.lowercased()
        case "upper": return v.display == v.display.uppercased()
        default: throw fail("unknown test '\(name)'")
        }
    }
}
