import Foundation

extension JinjaInterpreter {
    /// Evaluates an expression (one step and one level of recursion).
    func evaluate(_ expr: JinjaExpr) throws -> JinjaValue {
        try enter()
        defer { leave() }
        switch expr {
        case .string(let s): return .string(s)
        case .int(let i): return .int(i)
        case .float(let d): return .double(d)
        case .bool(let b): return .bool(b)
        case .none: return .none
        case .name(let n): return lookup(n)
        case .list(let items): return try checkedList(try items.map(evaluate))
        case .dict(let pairs):
            var o = JinjaObject()
            for (k, v) in pairs { o[try text(try evaluate(k))] = try evaluate(v) }
            let value = JinjaValue.object(o)
            if try metered({ value.nestsDeeper(than: limits.maxValueDepth, visits: &$0) }) {
                throw JinjaLimitExceeded("lists and dicts nested deeper than \(limits.maxValueDepth)")
            }
            return value
        case let .attribute(target, name): return try attribute(try evaluate(target), name)
        case let .index(target, index): return try subscriptValue(try evaluate(target), try evaluate(index))
        case let .slice(target, a, b, c):
            return try slice(try evaluate(target), try a.map(evaluate), try b.map(evaluate), try c.map(evaluate))
        case let .call(callee, args, kwargs):
            let f = try evaluate(callee)
            guard case .callable(let c) = f else { throw fail("'\(f.typeName)' value is not callable") }
            return try c.call(try args.map(evaluate), try kwargs.map { ($0.0, try evaluate($0.1)) })
        case let .filter(target, name, args, kwargs):
            return try applyFilter(
                name, try evaluate(target), try args.map(evaluate), try kwargs.map { ($0.0, try evaluate($0.1)) })
        case let .test(target, name, args, negated):
            let result = try applyTest(name, try evaluate(target), try args.map(evaluate))
            return .bool(result != negated)
        case let .unary(op, operand):
            let v = try evaluate(operand)
            if op == "not" { return .bool(!v.truthy) }
            switch v.arithmetic {
            case .int(let i):
                guard i != .min else { throw fail("integer result of -(\(i)) does not fit in 64 bits") }
                return .int(-i)
            case .double(let d): return .double(-d)
            default: throw fail("bad operand type for unary -: '\(v.typeName)'")
            }
        case let .binary(op, l, r):
            if op == "and" {
                let a = try evaluate(l)
                return a.truthy ? try evaluate(r) : a
            }
            if op == "or" {
                let a = try evaluate(l)
                return a.truthy ? a : try evaluate(r)
            }
            return try binary(op, try evaluate(l), try evaluate(r))
        case let .conditional(then, condition, otherwise):
            if try evaluate(condition).truthy { return try evaluate(then) }
            return try otherwise.map(evaluate) ?? .undefined
        }
    }

    private func binary(_ op: String, _ a: JinjaValue, _ b: JinjaValue) throws -> JinjaValue {
        switch op {
        case "==": return .bool(try isEqual(a, b))
        case "!=": return .bool(!(try isEqual(a, b)))
        case "in", "not in":
            let found: Bool
            switch b {
            case .string(let s):
                guard case .string(let needle) = a else {
                    throw fail("'in <string>' requires a string on the left, got \(a.typeName)")
                }
                found = needle.isEmpty || s.contains(needle)
            case .array(let items):
                var hit = false
                for item in items where try isEqual(item, a) {
                    hit = true
                    break
                }
                found = hit
            case .range(let r):
                switch a.arithmetic {
                case .int(let i): found = r.contains(i)
                case .double(let d): found = d.rounded() == d && Int(exactly: d).map(r.contains) == true
                default: found = false
                }
            case .object(let o): found = o.values[try text(a)] != nil
            default: throw fail("argument of type '\(b.typeName)' is not iterable")
            }
            return .bool(op == "in" ? found : !found)
        case "<", ">", "<=", ">=":
            let c: Int
            if case .string(let x) = a, case .string(let y) = b {
                c =
                    x == y
                    ? 0
                    : (Array(x.unicodeScalars.map(\.value)).lexicographicallyPrecedes(y.unicodeScalars.map(\.value))
                        ? -1 : 1)
            } else if case .int(let x) = a.arithmetic, case .int(let y) = b.arithmetic {
                c = x == y ? 0 : (x < y ? -1 : 1)
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
        case "~":
            let x = try text(a)
            let y = try text(b)
            try checkBytes(x.utf8.count + y.utf8.count)
            return .string(x + y)
        case "+":
            switch (a, b) {
            case let (.string(x), .string(y)):
                try checkBytes(x.utf8.count + y.utf8.count)
                return .string(x + y)
            case let (.array(x), .array(y)):
                try checkCount(x.count + y.count)
                return .array(x + y)
            default: return try arithmetic(op, a, b)
            }
        case "*":
            switch (a, b.arithmetic) {
            case let (.string(s), .int(n)): return .string(try repeated(s, n))
            case let (.array(items), .int(n)):
                guard n > 0 else { return .array([]) }
                let (total, overflow) = items.count.multipliedReportingOverflow(by: n)
                try checkCount(overflow ? .max : total)
                return .array(Array([[JinjaValue]](repeating: items, count: n).joined()))
            default:
                if case .int(let n) = a.arithmetic, case .string(let s) = b { return .string(try repeated(s, n)) }
                return try arithmetic(op, a, b)
            }
        case "%":
            if case .string(let fmt) = a { return .string(try pythonFormat(fmt, b)) }
            return try arithmetic(op, a, b)
        case "-", "/", "//", "**": return try arithmetic(op, a, b)
        default: throw fail("unsupported operator \(op)")
        }
    }

    /// `s * n` (Python: empty for n ≤ 0), within the size limit.
    private func repeated(_ s: String, _ n: Int) throws -> String {
        guard n > 0 else { return "" }
        let (total, overflow) = s.utf8.count.multipliedReportingOverflow(by: n)
        try checkBytes(overflow ? .max : total)
        return String(repeating: s, count: n)
    }

    /// Python arithmetic on ints (exact, a result past 64 bits is an error where Python would
    /// grow the integer) and floats (division by zero is an error, as in Python).
    private func arithmetic(_ op: String, _ a: JinjaValue, _ b: JinjaValue) throws -> JinjaValue {
        if case .int(let x) = a.arithmetic, case .int(let y) = b.arithmetic, op != "/" {
            func checked(_ r: (partialValue: Int, overflow: Bool)) throws -> JinjaValue {
                guard !r.overflow else { throw fail("integer result of \(x) \(op) \(y) does not fit in 64 bits") }
                return .int(r.partialValue)
            }
            switch op {
            case "+": return try checked(x.addingReportingOverflow(y))
            case "-": return try checked(x.subtractingReportingOverflow(y))
            case "*": return try checked(x.multipliedReportingOverflow(by: y))
            case "//":
                guard y != 0 else { throw fail("integer division or modulo by zero") }
                var (q, overflow) = x.dividedReportingOverflow(by: y)
                guard !overflow else { throw fail("integer result of \(x) // \(y) does not fit in 64 bits") }
                if x % y != 0 && (x < 0) != (y < 0) { q -= 1 }
                return .int(q)
            case "%":
                guard y != 0 else { throw fail("integer division or modulo by zero") }
                if y == -1 { return .int(0) }
                var r = x % y
                if r != 0 && (r < 0) != (y < 0) { r += y }
                return .int(r)
            case "**":
                if y < 0 {
                    guard x != 0 else { throw fail("0.0 cannot be raised to a negative power") }
                    return .double(pow(Double(x), Double(y)))
                }
                guard let p = Self.power(x, y) else {
                    throw fail("integer result of \(x) ** \(y) does not fit in 64 bits")
                }
                return .int(p)
            default: break
            }
        }
        guard let x = a.number, let y = b.number, !a.isString, !b.isString else {
            throw fail("unsupported operand types for \(op): '\(a.typeName)' and '\(b.typeName)'")
        }
        switch op {
        case "+": return .double(x + y)
        case "-": return .double(x - y)
        case "*": return .double(x * y)
        case "/":
            guard y != 0 else { throw fail("division by zero") }
            return .double(x / y)
        case "//":
            guard y != 0 else { throw fail("float floor division by zero") }
            return .double((x / y).rounded(.down))
        case "%":
            guard y != 0 else { throw fail("float modulo by zero") }
            return .double(x - y * (x / y).rounded(.down))
        default:
            guard !(x == 0 && y < 0) else { throw fail("0.0 cannot be raised to a negative power") }
            return .double(pow(x, y))
        }
    }

    /// `base ** exponent` by squaring; nil when it does not fit an `Int` (stops at the first overflow).
    static func power(_ base: Int, _ exponent: Int) -> Int? {
        var result = 1
        var b = base
        var e = exponent
        while e > 0 {
            if e & 1 == 1 {
                let (r, o) = result.multipliedReportingOverflow(by: b)
                if o { return nil }
                result = r
            }
            e >>= 1
            if e > 0 {
                let (sq, o) = b.multipliedReportingOverflow(by: b)
                if o { return nil }
                b = sq
            }
        }
        return result
    }

    /// `'%s' % value` for the simple `%s`/`%d`/`%r` cases.
    private func pythonFormat(_ fmt: String, _ arg: JinjaValue) throws -> String {
        var args: [JinjaValue]
        if case .array(let a) = arg { args = a } else { args = [arg] }
        var out = JinjaTextSink(limit: limits.maxBytes)
        let chars = Array(fmt)
        var i = 0
        while i < chars.count {
            if chars[i] == "%", i + 1 < chars.count {
                let c = chars[i + 1]
                if c == "%" {
                    try out.append("%")
                    i += 2
                    continue
                }
                if c == "s" || c == "d" || c == "r" {
                    let v = args.isEmpty ? .none : args.removeFirst()
                    if c == "r" { try v.writeRepr(to: &out) } else { try v.writeDisplay(to: &out) }
                    i += 2
                    continue
                }
            }
            try out.append(String(chars[i]))
            i += 1
        }
        return out.text
    }

    func subscriptValue(_ target: JinjaValue, _ index: JinjaValue) throws -> JinjaValue {
        switch (target, index.arithmetic) {
        case let (.array(a), .int(i)):
            let k = i < 0 ? a.count + i : i
            guard k >= 0, k < a.count else { return .undefined }
            return a[k]
        case let (.range(r), .int(i)):
            let k = i < 0 ? r.count + i : i
            guard k >= 0, k < r.count else { return .undefined }
            return .int(r.item(k))
        case let (.string(s), .int(i)):
            let chars = Array(s)
            let k = i < 0 ? chars.count + i : i
            guard k >= 0, k < chars.count else { return .undefined }
            return .string(String(chars[k]))
        case let (.object(o), _): return o.values[try text(index)] ?? .undefined
        case let (.namespace(ns), .string(k)): return ns.values[k] ?? .undefined
        case (.undefined, _): return .undefined
        default:
            if case .string(let name) = index { return try attribute(target, name) }
            throw fail("'\(target.typeName)' object cannot be indexed by \(index.typeName)")
        }
    }

    private func slice(_ target: JinjaValue, _ a: JinjaValue?, _ b: JinjaValue?, _ c: JinjaValue?) throws -> JinjaValue
    {
        func int(_ v: JinjaValue?) throws -> Int? {
            guard let v, !(v.isNoneOrUndefined) else { return nil }
            guard case .int(let i) = v.arithmetic else {
                throw fail("slice indices must be integers, got \(v.typeName)")
            }
            return i
        }
        let step = try int(c) ?? 1
        guard step != 0 else { throw fail("slice step cannot be zero") }
        let start = try int(a)
        let stop = try int(b)
        func pick<T>(_ items: [T]) -> [T] {
            let n = items.count
            func clamp(_ v: Int?, _ dflt: Int, _ lo: Int, _ hi: Int) -> Int {
                guard var x = v else { return dflt }
                if x < 0 { x = x < -n ? lo : x + n }
                return min(max(x, lo), hi)
            }
            var out: [T] = []
            if step > 0 {
                var i = clamp(start, 0, 0, n)
                let end = clamp(stop, n, 0, n)
                while i < end {
                    out.append(items[i])
                    let (next, overflow) = i.addingReportingOverflow(step)
                    if overflow { break }
                    i = next
                }
            } else {
                var i = clamp(start, n - 1, -1, n - 1)
                let end = clamp(stop, -1, -1, n - 1)
                while i > end {
                    out.append(items[i])
                    let (next, overflow) = i.addingReportingOverflow(step)
                    if overflow { break }
                    i = next
                }
            }
            return out
        }
        switch target {
        case .array, .range: return .array(pick(try listItems(target) ?? []))
        case .string(let s): return .string(String(pick(Array(s))))
        case .undefined: return .undefined
        default: throw fail("'\(target.typeName)' object cannot be sliced")
        }
    }
}

extension JinjaValue {
    var isString: Bool {
        if case .string = self { return true }
        return false
    }
    var isNoneOrUndefined: Bool {
        switch self {
        case .none, .undefined: return true
        default: return false
        }
    }

    /// The value as Python arithmetic sees it: a bool is the int 0 or 1.
    var arithmetic: JinjaValue {
        if case .bool(let b) = self { return .int(b ? 1 : 0) }
        return self
    }
}
