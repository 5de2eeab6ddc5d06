import Foundation

/// Executes a parsed Jinja template against a context of variables.
final class JinjaInterpreter {
    /// Loop control signals travel as errors through the node walk.
    enum Control: Error { case breakLoop, continueLoop }

    private var scopes: [[String: JinjaValue]]
    var line = 1

    init(globals: [String: JinjaValue]) {
        scopes = [globals]
        installBuiltins()
    }

    /// Renders nodes to text.
    func render(_ nodes: [JinjaNode]) throws -> String {
        var out = ""
        try execute(nodes, into: &out)
        return out
    }

    func lookup(_ name: String) -> JinjaValue {
        for scope in scopes.reversed() { if let v = scope[name] { return v } }
        return .undefined
    }

    func assign(_ name: String, _ value: JinjaValue) { scopes[scopes.count - 1][name] = value }

    func fail(_ message: String) -> TemplateError { .runtime(line: line, message: message) }

    private func installBuiltins() {
        scopes[0]["raise_exception"] = .callable(JinjaCallable(name: "raise_exception") { args, _ in
            throw TemplateError.raised(message: args.first?.display ?? "")
        })
        scopes[0]["namespace"] = .callable(JinjaCallable(name: "namespace") { args, kwargs in
            var values: [String: JinjaValue] = [:]
            if case .object(let o)? = args.first { values = o.values }
            for (k, v) in kwargs { values[k] = v }
            return .namespace(JinjaNamespace(values))
        })
        scopes[0]["range"] = .callable(JinjaCallable(name: "range") { [unowned self] args, _ in
            let n = try args.map { v -> Int in
                guard case .int(let i) = v else { throw self.fail("range() expects integers, got \(v.typeName)") }
                return i
            }
            let (start, stop, step) = n.count == 1 ? (0, n[0], 1) : n.count == 2 ? (n[0], n[1], 1) : (n[0], n[1], n[2])
            guard step != 0, n.count >= 1, n.count <= 3 else { throw self.fail("range() arguments are invalid") }
            return .array(stride(from: start, to: stop, by: step).map { .int($0) })
        })
        if scopes[0]["strftime_now"] == nil {
            scopes[0]["strftime_now"] = .callable(JinjaCallable(name: "strftime_now") { args, _ in
                var t = time(nil)
                var tmv = tm()
                localtime_r(&t, &tmv)
                var buf = [Int8](repeating: 0, count: 128)
                let n = strftime(&buf, buf.count, args.first?.display ?? "%Y-%m-%d", &tmv)
                return .string(String(decoding: buf[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self))
            })
        }
    }

    // MARK: Statements

    func execute(_ nodes: [JinjaNode], into out: inout String) throws {
        for node in nodes { try execute(node, into: &out) }
    }

    private func execute(_ node: JinjaNode, into out: inout String) throws {
        switch node {
        case .text(let t): out += t
        case let .output(expr, l):
            line = l
            out += try evaluate(expr).display
        case let .ifBlock(branches, otherwise, l):
            line = l
            for (condition, body) in branches where try evaluate(condition).truthy {
                try execute(body, into: &out)
                return
            }
            try execute(otherwise, into: &out)
        case let .forBlock(targets, iterable, condition, body, otherwise, l):
            line = l
            try runFor(targets: targets, iterable: iterable, condition: condition, body: body, otherwise: otherwise, into: &out)
        case let .set(target, expr, l):
            line = l
            let value = try evaluate(expr)
            switch target {
            case .names(let names):
                if names.count == 1 { assign(names[0], value); return }
                guard case .array(let items) = value, items.count == names.count else {
                    throw fail("cannot unpack \(value.typeName) into \(names.count) names")
                }
                for (n, v) in zip(names, items) { assign(n, v) }
            case let .attribute(name, attr):
                guard case .namespace(let ns) = lookup(name) else {
                    throw fail("cannot set attribute '\(attr)' on '\(name)': not a namespace()")
                }
                ns.values[attr] = value
            }
        case let .setBlock(name, body, l):
            line = l
            var text = ""
            try execute(body, into: &text)
            assign(name, .string(text))
        case let .macro(name, parameters, body, _):
            assign(name, .callable(JinjaCallable(name: name) { [unowned self] args, kwargs in
                var scope: [String: JinjaValue] = [:]
                for (k, (p, d)) in parameters.enumerated() {
                    if k < args.count { scope[p] = args[k] } else if let kw = kwargs.first(where: { $0.0 == p }) {
                        scope[p] = kw.1
                    } else { scope[p] = try d.map { try self.evaluate($0) } ?? .undefined }
                }
                let saved = self.scopes
                self.scopes = [self.scopes[0], scope]
                defer { self.scopes = saved }
                var text = ""
                try self.execute(body, into: &text)
                return .string(text)
            }))
        case .breakLoop: throw Control.breakLoop
        case .continueLoop: throw Control.continueLoop
        case .block(let nodes): try execute(nodes, into: &out)
        }
    }

    private func runFor(targets: [String], iterable: JinjaExpr, condition: JinjaExpr?, body: [JinjaNode],
                        otherwise: [JinjaNode], into out: inout String) throws {
        let source = try evaluate(iterable)
        var items: [JinjaValue]
        switch source {
        case .array(let a): items = a
        case .object(let o): items = o.keys.map { .string($0) }
        case .string(let s): items = s.map { .string(String($0)) }
        case .undefined, .none: items = []
        default: throw fail("'\(source.typeName)' object is not iterable")
        }
        func bind(_ item: JinjaValue) throws {
            if targets.count == 1 { assign(targets[0], item); return }
            guard case .array(let parts) = item, parts.count == targets.count else {
                throw fail("cannot unpack \(item.typeName) into \(targets.count) loop variables")
            }
            for (n, v) in zip(targets, parts) { assign(n, v) }
        }
        if let condition {
            scopes.append([:])
            items = try items.filter { try bind($0); return try evaluate(condition).truthy }
            scopes.removeLast()
        }
        if items.isEmpty { try execute(otherwise, into: &out); return }
        let n = items.count
        for (k, item) in items.enumerated() {
            var loop = JinjaObject()
            loop["index"] = .int(k + 1)
            loop["index0"] = .int(k)
            loop["revindex"] = .int(n - k)
            loop["revindex0"] = .int(n - k - 1)
            loop["first"] = .bool(k == 0)
            loop["last"] = .bool(k == n - 1)
            loop["length"] = .int(n)
            loop["previtem"] = k > 0 ? items[k - 1] : .undefined
            loop["nextitem"] = k < n - 1 ? items[k + 1] : .undefined
            scopes.append(["loop": .object(loop)])
            defer { scopes.removeLast() }
            try bind(item)
            do { try execute(body, into: &out) } catch Control.continueLoop { continue } catch Control.breakLoop { break }
        }
    }

    // MARK: Expressions

    func evaluate(_ expr: JinjaExpr) throws -> JinjaValue {
        switch expr {
        case .string(let s): return .string(s)
        case .int(let i): return .int(i)
        case .float(let d): return .double(d)
        case .bool(let b): return .bool(b)
        case .none: return .none
        case .name(let n): return lookup(n)
        case .list(let items): return .array(try items.map(evaluate))
        case .dict(let pairs):
            var o = JinjaObject()
            for (k, v) in pairs { o[try evaluate(k).display] = try evaluate(v) }
            return .object(o)
        case let .attribute(target, name): return try attribute(try evaluate(target), name)
        case let .index(target, index): return try subscriptValue(try evaluate(target), try evaluate(index))
        case let .slice(target, a, b, c):
            return try slice(try evaluate(target), try a.map(evaluate), try b.map(evaluate), try c.map(evaluate))
        case let .call(callee, args, kwargs):
            let f = try evaluate(callee)
            guard case .callable(let c) = f else { throw fail("'\(f.typeName)' value is not callable") }
            return try c.call(try args.map(evaluate), try kwargs.map { ($0.0, try evaluate($0.1)) })
        case let .filter(target, name, args, kwargs):
            return try applyFilter(name, try evaluate(target), try args.map(evaluate), try kwargs.map { ($0.0, try evaluate($0.1)) })
        case let .test(target, name, args, negated):
            let result = try applyTest(name, try evaluate(target), try args.map(evaluate))
            return .bool(result != negated)
        case let .unary(op, operand):
            let v = try evaluate(operand)
            if op == "not" { return .bool(!v.truthy) }
            switch v {
            case .int(let i): return .int(-i)
            case .double(let d): return .double(-d)
            default: throw fail("bad operand type for unary -: '\(v.typeName)'")
            }
        case let .binary(op, l, r):
            if op == "and" { let a = try evaluate(l); return a.truthy ? try evaluate(r) : a }
            if op == "or" { let a = try evaluate(l); return a.truthy ? a : try evaluate(r) }
            return try binary(op, try evaluate(l), try evaluate(r))
        case let .conditional(then, condition, otherwise):
            if try evaluate(condition).truthy { return try evaluate(then) }
            return try otherwise.map(evaluate) ?? .undefined
        }
    }

    private func binary(_ op: String, _ a: JinjaValue, _ b: JinjaValue) throws -> JinjaValue {
        switch op {
        case "==": return .bool(JinjaValue.equal(a, b))
        case "!=": return .bool(!JinjaValue.equal(a, b))
        case "in", "not in":
            let found: Bool
            switch b {
            case .string(let s):
                guard case .string(let needle) = a else { throw fail("'in <string>' requires a string on the left, got \(a.typeName)") }
                found = needle.isEmpty || s.contains(needle)
            case .array(let items): found = items.contains { JinjaValue.equal($0, a) }
            case .object(let o): found = o.values[a.display] != nil
            case .undefined, .none: throw fail("argument of type '\(b.typeName)' is not iterable")
            default: throw fail("argument of type '\(b.typeName)' is not iterable")
            }
            return .bool(op == "in" ? found : !found)
        case "<", ">", "<=", ">=":
            let c: Int
            if case .string(let x) = a, case .string(let y) = b {
                c = x == y ? 0 : (Array(x.unicodeScalars.map(\.value)).lexicographicallyPrecedes(y.unicodeScalars.map(\.value)) ? -1 : 1)
            } else if let x = a.number, let y = b.number {
                c = x == y ? 0 : (x < y ? -1 : 1)
            } else {
                throw fail("'\(op)' not supported between '\(a.typeName)' and '\(b.typeName)'")
            }
            switch op {
            case "<": return .bool(c < 0)
            case ">": return .bool(c > 0)
            case "<=": return .bool(c <= 0)
            default: return .bool(c >= 0)
            }
        case "~": return .string(a.display + b.display)
        case "+":
            switch (a, b) {
            case let (.string(x), .string(y)): return .string(x + y)
            case let (.array(x), .array(y)): return .array(x + y)
            case let (.int(x), .int(y)): return .int(x + y)
            default:
                if let x = a.number, let y = b.number, !a.isString, !b.isString { return .double(x + y) }
                throw fail("unsupported operand types for +: '\(a.typeName)' and '\(b.typeName)'")
            }
        case "-", "*", "/", "//", "%", "**":
            if op == "*", case .string(let s) = a, case .int(let n) = b { return .string(String(repeating: s, count: max(0, n))) }
            if op == "*", case .array(let s) = a, case .int(let n) = b {
                return .array(Array([[JinjaValue]](repeating: s, count: max(0, n)).joined()))
            }
            if op == "%", case .string(let fmt) = a { return .string(pythonFormat(fmt, b)) }
            if case .int(let x) = a, case .int(let y) = b, op != "/" {
                switch op {
                case "-": return .int(x - y)
                case "*": return .int(x * y)
                case "//":
                    guard y != 0 else { throw fail("integer division by zero") }
                    return .int(Int((Double(x) / Double(y)).rounded(.down)))
                case "%":
                    guard y != 0 else { throw fail("integer modulo by zero") }
                    return .int(((x % y) + y) % y)
                default: return y >= 0 ? .int(Int(pow(Double(x), Double(y)))) : .double(pow(Double(x), Double(y)))
                }
            }
            guard let x = a.number, let y = b.number, !a.isString, !b.isString else {
                throw fail("unsupported operand types for \(op): '\(a.typeName)' and '\(b.typeName)'")
            }
            switch op {
            case "-": return .double(x - y)
            case "*": return .double(x * y)
            case "/":
                guard y != 0 else { throw fail("division by zero") }
                return .double(x / y)
            case "//": return .double((x / y).rounded(.down))
            case "%": return .double(x - y * (x / y).rounded(.down))
            default: return .double(pow(x, y))
            }
        default: throw fail("unsupported operator \(op)")
        }
    }

    /// `'%s' % value` for the simple `%s`/`%d` cases.
    private func pythonFormat(_ fmt: String, _ arg: JinjaValue) -> String {
        var args: [JinjaValue]
        if case .array(let a) = arg { args = a } else { args = [arg] }
        var out = ""
        var chars = Array(fmt)
        var i = 0
        while i < chars.count {
            if chars[i] == "%", i + 1 < chars.count {
                let c = chars[i + 1]
                if c == "%" { out.append("%"); i += 2; continue }
                if c == "s" || c == "d" || c == "r" {
                    let v = args.isEmpty ? .none : args.removeFirst()
                    out += c == "r" ? v.repr : v.display
                    i += 2
                    continue
                }
            }
            out.append(chars[i])
            i += 1
        }
        chars = []
        return out
    }

    func subscriptValue(_ target: JinjaValue, _ index: JinjaValue) throws -> JinjaValue {
        switch (target, index) {
        case let (.array(a), .int(i)):
            let k = i < 0 ? a.count + i : i
            guard k >= 0, k < a.count else { return .undefined }
            return a[k]
        case let (.string(s), .int(i)):
            let chars = Array(s)
            let k = i < 0 ? chars.count + i : i
            guard k >= 0, k < chars.count else { return .undefined }
            return .string(String(chars[k]))
        case let (.object(o), _): return o.values[index.display] ?? .undefined
        case let (.namespace(ns), .string(k)): return ns.values[k] ?? .undefined
        case (.undefined, _): return .undefined
        default:
            if case .string(let name) = index { return try attribute(target, name) }
            throw fail("'\(target.typeName)' object cannot be indexed by \(index.typeName)")
        }
    }

    private func slice(_ target: JinjaValue, _ a: JinjaValue?, _ b: JinjaValue?, _ c: JinjaValue?) throws -> JinjaValue {
        func int(_ v: JinjaValue?) throws -> Int? {
            guard let v, !(v.isNoneOrUndefined) else { return nil }
            guard case .int(let i) = v else { throw fail("slice indices must be integers, got \(v.typeName)") }
            return i
        }
        let step = try int(c) ?? 1
        guard step != 0 else { throw fail("slice step cannot be zero") }
        func pick<T>(_ items: [T]) throws -> [T] {
            let n = items.count
            func clamp(_ v: Int?, _ dflt: Int, _ lo: Int, _ hi: Int) -> Int {
                guard var x = v else { return dflt }
                if x < 0 { x += n }
                return min(max(x, lo), hi)
            }
            var out: [T] = []
            if step > 0 {
                var i = clamp(try int(a), 0, 0, n)
                let end = clamp(try int(b), n, 0, n)
                while i < end { out.append(items[i]); i += step }
            } else {
                var i = clamp(try int(a), n - 1, -1, n - 1)
                let end = clamp(try int(b), -1, -1, n - 1)
                while i > end { out.append(items[i]); i += step }
            }
            return out
        }
        switch target {
        case .array(let items): return .array(try pick(items))
        case .string(let s): return .string(String(try pick(Array(s))))
        case .undefined: return .undefined
        default: throw fail("'\(target.typeName)' object cannot be sliced")
        }
    }
}

extension JinjaValue {
    var isString: Bool { if case .string = self { return true }; return false }
    var isNoneOrUndefined: Bool {
        switch self {
        case .none, .undefined: return true
        default: return false
        }
    }
}
