import Foundation

/// Executes a parsed Jinja template against a context of variables, within `JinjaLimits`.
final class JinjaInterpreter {
    /// Loop control signals travel as errors through the node walk.
    enum Control: Error { case breakLoop, continueLoop }

    private var scopes: [[String: JinjaValue]]
    var line = 1
    /// Steps and time spent so far against the limits.
    var budget: JinjaBudget
    var limits: JinjaLimits { budget.limits }
    /// Active blocks, expressions and macro calls (the interpreter's own recursion).
    private var depth = 0
    /// Active macro calls.
    private var callDepth = 0

    init(globals: [String: JinjaValue], limits: JinjaLimits = .standard) {
        scopes = [globals]
        budget = JinjaBudget(limits: limits)
        installBuiltins()
    }

    /// Renders nodes to text; a reached limit becomes a runtime error at the current line.
    func render(_ nodes: [JinjaNode]) throws -> String {
        var out = JinjaTextSink(limit: limits.maxBytes)
        do {
            try execute(nodes, into: &out)
        } catch let limit as JinjaLimitExceeded {
            throw fail("template limit: \(limit.message)")
        }
        return out.text
    }

    func lookup(_ name: String) -> JinjaValue {
        for scope in scopes.reversed() { if let v = scope[name] { return v } }
        return .undefined
    }

    func assign(_ name: String, _ value: JinjaValue) { scopes[scopes.count - 1][name] = value }

    func fail(_ message: String) -> TemplateError { .runtime(line: line, message: message) }

    /// Binds `value` to `names`: one name takes it whole; several take the items of a list of as
    /// many items, else an error that it cannot be unpacked into as many `what`.
    func unpack(_ value: JinjaValue, into names: [String], what: String) throws {
        if names.count == 1 {
            assign(names[0], value)
            return
        }
        guard let items = try listItems(value), items.count == names.count else {
            throw fail("cannot unpack \(value.typeName) into \(names.count) \(what)")
        }
        for (n, v) in zip(names, items) { assign(n, v) }
    }

    // MARK: Limits

    /// Enters one level of the interpreter's recursion (undone by `leave()`), counting a step.
    func enter() throws {
        guard depth < limits.maxDepth else {
            throw JinjaLimitExceeded("blocks, expressions and macro calls nested deeper than \(limits.maxDepth)")
        }
        try budget.spend()
        depth += 1
    }

    func leave() { depth -= 1 }

    /// `v`'s text as `{{ }}` prints it, within the size limit.
    func text(_ v: JinjaValue) throws -> String {
        if case .string(let s) = v { return s }
        var sink = JinjaTextSink(limit: limits.maxBytes)
        try v.writeDisplay(to: &sink)
        return sink.text
    }

    /// Python `==`, its work counted against the step budget.
    func isEqual(_ a: JinjaValue, _ b: JinjaValue) throws -> Bool {
        try metered { JinjaValue.equal(a, b, visits: &$0) }
    }

    /// Runs a walk over values that counts its visits down, charging them as steps.
    func metered<T>(_ walk: (inout Int) -> T) throws -> T {
        let allowance = min(budget.remaining, 1 << 24)
        var visits = allowance
        let result = walk(&visits)
        guard visits >= 0 else { throw JinjaLimitExceeded("exceeded \(limits.maxSteps) evaluation steps") }
        try budget.spend(allowance - visits)
        return result
    }

    /// A list built by a template: at most `maxItems` items, nested at most `maxValueDepth` deep.
    func checkedList(_ items: [JinjaValue]) throws -> JinjaValue {
        try checkCount(items.count)
        let value = JinjaValue.array(items)
        if try metered({ value.nestsDeeper(than: limits.maxValueDepth, visits: &$0) }) {
            throw JinjaLimitExceeded("lists and dicts nested deeper than \(limits.maxValueDepth)")
        }
        return value
    }

    /// Throws when a list of `count` items would pass `maxItems`.
    func checkCount(_ count: Int) throws {
        guard count <= limits.maxItems else { throw JinjaLimitExceeded("a list of more than \(limits.maxItems) items") }
    }

    /// Throws when a string of `bytes` UTF-8 bytes would pass `maxBytes`.
    func checkBytes(_ bytes: Int) throws {
        guard bytes <= limits.maxBytes else { throw JinjaLimitExceeded("text longer than \(limits.maxBytes) bytes") }
    }

    /// The items of a list, a lazy range (built, within the limits) or nil for other values.
    func listItems(_ v: JinjaValue) throws -> [JinjaValue]? {
        switch v {
        case .array(let a): return a
        case .range(let r):
            try checkCount(r.count)
            try budget.spend(r.count)
            return (0..<r.count).map { .int(r.item($0)) }
        default: return nil
        }
    }

    // MARK: Built-ins

    private func installBuiltins() {
        scopes[0]["raise_exception"] = .callable(
            JinjaCallable(name: "raise_exception") { [unowned self] args, _ in
                throw TemplateError.raised(message: try args.first.map(self.text) ?? "")
            })
        scopes[0]["namespace"] = .callable(
            JinjaCallable(name: "namespace") { args, kwargs in
                var values: [String: JinjaValue] = [:]
                if case .object(let o)? = args.first { values = o.values }
                for (k, v) in kwargs { values[k] = v }
                return .namespace(JinjaNamespace(values))
            })
        scopes[0]["range"] = .callable(
            JinjaCallable(name: "range") { [unowned self] args, _ in
                let n = try args.map { v -> Int in
                    switch v {
                    case .int(let i): return i
                    case .bool(let b): return b ? 1 : 0
                    default: throw self.fail("range() expects integers, got \(v.typeName)")
                    }
                }
                guard (1...3).contains(n.count) else {
                    throw self.fail("range() takes 1 to 3 arguments, got \(n.count)")
                }
                let (start, stop, step) =
                    n.count == 1 ? (0, n[0], 1) : n.count == 2 ? (n[0], n[1], 1) : (n[0], n[1], n[2])
                guard step != 0 else { throw self.fail("range() arg 3 must not be zero") }
                guard let r = JinjaRange(start: start, stop: stop, step: step) else {
                    throw self.fail("range(\(start), \(stop), \(step)) has more items than an integer can count")
                }
                return .range(r)
            })
        if scopes[0]["strftime_now"] == nil {
            scopes[0]["strftime_now"] = .callable(
                JinjaCallable(name: "strftime_now") { [unowned self] args, _ in
                    var t = time(nil)
                    var tmv = tm()
                    localtime_r(&t, &tmv)
                    var buf = [Int8](repeating: 0, count: 128)
                    let n = strftime(&buf, buf.count, try args.first.map(self.text) ?? "%Y-%m-%d", &tmv)
                    return .string(String(decoding: buf[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self))
                })
        }
    }

    // MARK: Statements

    func execute(_ nodes: [JinjaNode], into out: inout JinjaTextSink) throws {
        for node in nodes { try execute(node, into: &out) }
    }

    private func execute(_ node: JinjaNode, into out: inout JinjaTextSink) throws {
        try enter()
        defer { leave() }
        switch node {
        case .text(let t): try out.append(t)
        case let .output(expr, l):
            line = l
            try evaluate(expr).writeDisplay(to: &out)
        case let .ifBlock(branches, otherwise, l):
            line = l
            for (condition, body) in branches where try evaluate(condition).truthy {
                try execute(body, into: &out)
                return
            }
            try execute(otherwise, into: &out)
        case let .forBlock(targets, iterable, condition, body, otherwise, l):
            line = l
            try runFor(
                targets: targets, iterable: iterable, condition: condition, body: body, otherwise: otherwise, into: &out
            )
        case let .set(target, expr, l):
            line = l
            let value = try evaluate(expr)
            switch target {
            case .names(let names): try unpack(value, into: names, what: "names")
            case let .attribute(name, attr):
                guard case .namespace(let ns) = lookup(name) else {
                    throw fail("cannot set attribute '\(attr)' on '\(name)': not a namespace()")
                }
                ns.values[attr] = value
            }
        case let .setBlock(name, body, l):
            line = l
            var text = JinjaTextSink(limit: limits.maxBytes)
            try execute(body, into: &text)
            assign(name, .string(text.text))
        case let .macro(name, parameters, body, _):
            assign(
                name,
                .callable(
                    JinjaCallable(name: name) { [unowned self] args, kwargs in
                        try self.callMacro(name, parameters: parameters, body: body, args: args, kwargs: kwargs)
                    }))
        case .breakLoop: throw Control.breakLoop
        case .continueLoop: throw Control.continueLoop
        case .block(let nodes): try execute(nodes, into: &out)
        }
    }

    /// Runs a macro's body in a scope of its parameters (defaults evaluated in the caller's scope).
    private func callMacro(
        _ name: String, parameters: [(String, JinjaExpr?)], body: [JinjaNode],
        args: [JinjaValue], kwargs: [(String, JinjaValue)]
    ) throws -> JinjaValue {
        guard callDepth < limits.maxCallDepth else {
            throw JinjaLimitExceeded("macro '\(name)' called recursively more than \(limits.maxCallDepth) deep")
        }
        callDepth += 1
        defer { callDepth -= 1 }
        var scope: [String: JinjaValue] = [:]
        for (k, (p, d)) in parameters.enumerated() {
            if k < args.count {
                scope[p] = args[k]
            } else if let kw = kwargs.first(where: { $0.0 == p }) {
                scope[p] = kw.1
            } else {
                scope[p] = try d.map { try evaluate($0) } ?? .undefined
            }
        }
        let saved = scopes
        let savedLine = line
        scopes = [scopes[0], scope]
        defer {
            scopes = saved
            line = savedLine
        }
        var text = JinjaTextSink(limit: limits.maxBytes)
        try execute(body, into: &text)
        return .string(text.text)
    }

    /// The items a `for` walks: a list, a lazy range, a dict's keys or a string's characters.
    private enum LoopItems {
        case list([JinjaValue])
        case range(JinjaRange)

        var count: Int {
            switch self {
            case .list(let a): a.count
            case .range(let r): r.count
            }
        }

        subscript(k: Int) -> JinjaValue {
            switch self {
            case .list(let a): a[k]
            case .range(let r): .int(r.item(k))
            }
        }
    }

    private func runFor(
        targets: [String], iterable: JinjaExpr, condition: JinjaExpr?, body: [JinjaNode],
        otherwise: [JinjaNode], into out: inout JinjaTextSink
    ) throws {
        let source = try evaluate(iterable)
        var items: LoopItems
        switch source {
        case .array(let a): items = .list(a)
        case .range(let r): items = .range(r)
        case .object(let o): items = .list(o.keys.map { .string($0) })
        case .string(let s):
            try checkCount(s.unicodeScalars.count)
            items = .list(s.map { .string(String($0)) })
        case .undefined, .none: items = .list([])
        default: throw fail("'\(source.typeName)' object is not iterable")
        }
        func bind(_ item: JinjaValue) throws { try unpack(item, into: targets, what: "loop variables") }
        if let condition {
            scopes.append([:])
            var kept: [JinjaValue] = []
            for k in 0..<items.count {
                try budget.spend()
                try bind(items[k])
                if try evaluate(condition).truthy { kept.append(items[k]) }
            }
            scopes.removeLast()
            items = .list(kept)
        }
        if items.count == 0 {
            try execute(otherwise, into: &out)
            return
        }
        let n = items.count
        for k in 0..<n {
            try budget.spend(16)
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
            try bind(items[k])
            do { try execute(body, into: &out) } catch Control.continueLoop { continue } catch Control.breakLoop {
                break
            }
        }
    }
}
