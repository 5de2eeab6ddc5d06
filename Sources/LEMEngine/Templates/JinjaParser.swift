import LEMFormats

/// Parses lexed template pieces into a node tree (recursive descent, Jinja's precedence).
struct JinjaParser {
    private let pieces: [JinjaLexer.Piece]
    private var index = 0
    /// Most blocks inside one another, and most expression nesting (`JinjaLimits.maxNesting`).
    private let maxNesting: Int
    private var blockDepth = 0

    init(pieces: [JinjaLexer.Piece], maxNesting: Int = JinjaLimits.standard.maxNesting) {
        self.pieces = pieces
        self.maxNesting = maxNesting
    }

    /// Parses a whole template; nesting past `limits.maxNesting` is a syntax error, so the tree
    /// the interpreter walks (and frees) is never deeper than that.
    static func parse(_ source: String, limits: JinjaLimits = .standard) throws -> [JinjaNode] {
        var parser = JinjaParser(pieces: try JinjaLexer.pieces(source), maxNesting: limits.maxNesting)
        let (nodes, end) = try parser.parseNodes(until: [])
        if let end {
            throw TemplateError.syntax(line: end.line, message: "unexpected {% \(ErrorText.clip(end.keyword)) %}")
        }
        return nodes
    }

    /// Parses nodes until a statement whose keyword is in `terminators` (returned with its tokens).
    private mutating func parseNodes(until terminators: Set<String>) throws
        -> ([JinjaNode], (keyword: String, tokens: [JinjaToken], line: Int)?)
    {
        var nodes: [JinjaNode] = []
        while index < pieces.count {
            let piece = pieces[index]
            index += 1
            switch piece {
            case .text(let t): nodes.append(.text(t))
            case let .output(tokens, line):
                var e = ExprParser(tokens: tokens, line: line, maxNesting: maxNesting)
                let expr = try e.parseExpression()
                try e.expectEnd()
                nodes.append(.output(expr, line: line))
            case let .statement(tokens, line):
                guard case .name(let keyword)? = tokens.first else {
                    throw TemplateError.syntax(line: line, message: "expected a statement keyword after {%")
                }
                if terminators.contains(keyword) { return (nodes, (keyword, tokens, line)) }
                guard blockDepth < maxNesting else {
                    throw TemplateError.syntax(line: line, message: "blocks nested deeper than \(maxNesting)")
                }
                blockDepth += 1
                defer { blockDepth -= 1 }
                nodes.append(try parseStatement(keyword, tokens, line))
            }
        }
        if !terminators.isEmpty {
            throw TemplateError.syntax(
                line: lastLine, message: "missing {% \(terminators.sorted().joined(separator: " / ")) %}")
        }
        return (nodes, nil)
    }

    private var lastLine: Int {
        for piece in pieces.reversed() {
            switch piece {
            case let .output(_, line), let .statement(_, line): return line
            case .text: continue
            }
        }
        return 1
    }

    private mutating func parseStatement(_ keyword: String, _ tokens: [JinjaToken], _ line: Int) throws -> JinjaNode {
        var e = ExprParser(tokens: Array(tokens.dropFirst()), line: line, maxNesting: maxNesting)
        switch keyword {
        case "if":
            var branches: [(JinjaExpr, [JinjaNode])] = []
            var condition = try e.parseExpression()
            try e.expectEnd()
            var otherwise: [JinjaNode] = []
            while true {
                let (body, end) = try parseNodes(until: ["elif", "else", "endif"])
                branches.append((condition, body))
                guard let end else { break }
                if end.keyword == "elif" {
                    var c = ExprParser(tokens: Array(end.tokens.dropFirst()), line: end.line, maxNesting: maxNesting)
                    condition = try c.parseExpression()
                    try c.expectEnd()
                    continue
                }
                if end.keyword == "else" {
                    let (elseBody, _) = try parseNodes(until: ["endif"])
                    otherwise = elseBody
                }
                break
            }
            return .ifBlock(branches: branches, otherwise: otherwise, line: line)
        case "for":
            var targets = [try e.name()]
            while e.accept(.op(",")) { targets.append(try e.name()) }
            try e.expect(.name("in"))
            let iterable = try e.parseExpression(allowConditional: false)
            var condition: JinjaExpr?
            if e.accept(.name("if")) { condition = try e.parseExpression(allowConditional: false) }
            _ = e.accept(.name("recursive"))
            try e.expectEnd()
            let (body, end) = try parseNodes(until: ["else", "endfor"])
            var otherwise: [JinjaNode] = []
            if end?.keyword == "else" { otherwise = try parseNodes(until: ["endfor"]).0 }
            return .forBlock(
                targets: targets, iterable: iterable, condition: condition, body: body,
                otherwise: otherwise, line: line)
        case "set":
            let first = try e.name()
            if e.accept(.op(".")) {
                let attr = try e.name()
                try e.expect(.op("="))
                let value = try e.parseExpression()
                try e.expectEnd()
                return .set(.attribute(first, attr), value, line: line)
            }
            var names = [first]
            while e.accept(.op(",")) { names.append(try e.name()) }
            if e.atEnd {
                guard names.count == 1 else {
                    throw TemplateError.syntax(line: line, message: "block set takes one name")
                }
                let (body, _) = try parseNodes(until: ["endset"])
                return .setBlock(first, body, line: line)
            }
            try e.expect(.op("="))
            let value = try e.parseTupleOrExpression()
            try e.expectEnd()
            return .set(.names(names), value, line: line)
        case "macro":
            let name = try e.name()
            try e.expect(.op("("))
            var params: [(String, JinjaExpr?)] = []
            if !e.accept(.op(")")) {
                repeat {
                    let p = try e.name()
                    var d: JinjaExpr?
                    if e.accept(.op("=")) { d = try e.parseExpression() }
                    params.append((p, d))
                } while e.accept(.op(","))
                try e.expect(.op(")"))
            }
            try e.expectEnd()
            let (body, _) = try parseNodes(until: ["endmacro"])
            return .macro(name: name, parameters: params, body: body, line: line)
        case "break": return .breakLoop(line: line)
        case "continue": return .continueLoop(line: line)
        case "generation":
            // transformers' assistant-mask extension: renders its body unchanged.
            return .block(try parseNodes(until: ["endgeneration"]).0)
        default:
            throw TemplateError.syntax(line: line, message: "unsupported statement {% \(ErrorText.clip(keyword)) %}")
        }
    }
}

/// Parses one expression from a tag's tokens.
///
/// `nesting` counts the levels the tree being built has reached: one per parenthesis, bracket,
/// unary operator and per link of an operator, postfix or filter chain (a chain of n links is a
/// tree n deep). Past `maxNesting` the expression is a syntax error, as Python Jinja's parser
/// and compiler run out of recursion at about the same depth.
struct ExprParser {
    let tokens: [JinjaToken]
    let line: Int
    var i = 0
    let maxNesting: Int
    private var nesting = 0

    init(tokens: [JinjaToken], line: Int, maxNesting: Int = JinjaLimits.standard.maxNesting) {
        self.tokens = tokens
        self.line = line
        self.maxNesting = maxNesting
    }

    /// One more level of nesting (restored by the caller).
    private mutating func deeper() throws {
        nesting += 1
        guard nesting <= maxNesting else { throw error("expression nested deeper than \(maxNesting) levels") }
    }

    var atEnd: Bool { i >= tokens.count }
    var peek: JinjaToken? { i < tokens.count ? tokens[i] : nil }

    mutating func accept(_ t: JinjaToken) -> Bool {
        if peek == t {
            i += 1
            return true
        }
        return false
    }

    mutating func expect(_ t: JinjaToken) throws {
        guard accept(t) else { throw error("expected \(describe(t)), found \(peek.map(describe) ?? "end of tag")") }
    }

    func expectEnd() throws {
        if let t = peek { throw error("unexpected \(describe(t))") }
    }

    mutating func name() throws -> String {
        guard case .name(let n)? = peek else {
            throw error("expected a name, found \(peek.map(describe) ?? "end of tag")")
        }
        i += 1
        return n
    }

    func error(_ message: String) -> TemplateError { .syntax(line: line, message: message) }

    func describe(_ t: JinjaToken) -> String {
        switch t {
        case .name(let n): return "'\(ErrorText.clip(n))'"
        case .string(let s): return "string \"\(ErrorText.clip(s))\""
        case .int(let v): return "\(v)"
        case .float(let v): return "\(v)"
        case .op(let o): return "'\(o)'"
        }
    }

    /// `a, b` (a tuple, as a list) or a single expression.
    mutating func parseTupleOrExpression() throws -> JinjaExpr {
        let first = try parseExpression()
        guard peek == .op(",") else { return first }
        var items = [first]
        while accept(.op(",")) {
            if atEnd { break }
            items.append(try parseExpression())
        }
        return .list(items)
    }

    mutating func parseExpression(allowConditional: Bool = true) throws -> JinjaExpr {
        let saved = nesting
        defer { nesting = saved }
        try deeper()
        let value = try parseOr()
        guard allowConditional, accept(.name("if")) else { return value }
        let condition = try parseOr()
        var otherwise: JinjaExpr?
        if accept(.name("else")) { otherwise = try parseExpression() }
        return .conditional(then: value, condition: condition, otherwise: otherwise)
    }

    /// One left-associative level: operands read by `operand`, joined by any of `operators`
    /// (`.op` symbols or `.name` words, kept as the node's operator text).
    private mutating func parseLeftAssociative(
        _ operators: [JinjaToken], _ operand: (inout ExprParser) throws -> JinjaExpr
    ) throws -> JinjaExpr {
        let saved = nesting
        defer { nesting = saved }
        var left = try operand(&self)
        while let token = peek, operators.contains(token) {
            i += 1
            try deeper()
            switch token {
            case .op(let o), .name(let o): left = .binary(o, left, try operand(&self))
            case .string, .int, .float: return left
            }
        }
        return left
    }

    private mutating func parseOr() throws -> JinjaExpr {
        try parseLeftAssociative([.name("or")]) { try $0.parseAnd() }
    }

    private mutating func parseAnd() throws -> JinjaExpr {
        try parseLeftAssociative([.name("and")]) { try $0.parseNot() }
    }

    private mutating func parseNot() throws -> JinjaExpr {
        if accept(.name("not")) {
            let saved = nesting
            defer { nesting = saved }
            try deeper()
            return .unary("not", try parseNot())
        }
        return try parseCompare()
    }

    private mutating func parseCompare() throws -> JinjaExpr {
        let saved = nesting
        defer { nesting = saved }
        var left = try parseMath1()
        while true {
            if case .op(let o)? = peek, ["==", "!=", "<", ">", "<=", ">="].contains(o) {
                i += 1
                try deeper()
                left = .binary(o, left, try parseMath1())
            } else if accept(.name("in")) {
                try deeper()
                left = .binary("in", left, try parseMath1())
            } else if peek == .name("not"), i + 1 < tokens.count, tokens[i + 1] == .name("in") {
                i += 2
                try deeper()
                left = .binary("not in", left, try parseMath1())
            } else {
                return left
            }
        }
    }

    private mutating func parseMath1() throws -> JinjaExpr {
        try parseLeftAssociative([.op("+"), .op("-")]) { try $0.parseConcat() }
    }

    private mutating func parseConcat() throws -> JinjaExpr {
        try parseLeftAssociative([.op("~")]) { try $0.parseMath2() }
    }

    private mutating func parseMath2() throws -> JinjaExpr {
        try parseLeftAssociative([.op("*"), .op("/"), .op("//"), .op("%")]) { try $0.parsePow() }
    }

    private mutating func parsePow() throws -> JinjaExpr {
        try parseLeftAssociative([.op("**")]) { try $0.parseUnary() }
    }

    private mutating func parseUnary() throws -> JinjaExpr {
        let saved = nesting
        defer { nesting = saved }
        if accept(.op("-")) {
            try deeper()
            return .unary("-", try parseUnary())
        }
        if accept(.op("+")) {
            try deeper()
            return try parseUnary()
        }
        var node = try parsePrimary()
        node = try parsePostfix(node)
        return try parseFilterExpr(node)
    }

    private mutating func parsePrimary() throws -> JinjaExpr {
        guard let t = peek else { throw error("expected an expression, found end of tag") }
        i += 1
        switch t {
        case .string(var s):
            while case .string(let more)? = peek {
                s += more
                i += 1
            }  // adjacent literals concatenate
            return .string(s)
        case .int(let v): return .int(v)
        case .float(let v): return .float(v)
        case .name(let n):
            switch n {
            case "true", "True": return .bool(true)
            case "false", "False": return .bool(false)
            case "none", "None": return .none
            default: return .name(n)
            }
        case .op("("):
            if accept(.op(")")) { return .list([]) }
            let e = try parseTupleOrExpression()
            try expect(.op(")"))
            return e
        case .op("["):
            var items: [JinjaExpr] = []
            while !accept(.op("]")) {
                items.append(try parseExpression())
                if !accept(.op(",")) {
                    try expect(.op("]"))
                    break
                }
            }
            return .list(items)
        case .op("{"):
            var pairs: [(JinjaExpr, JinjaExpr)] = []
            while !accept(.op("}")) {
                let k = try parseExpression()
                try expect(.op(":"))
                pairs.append((k, try parseExpression()))
                if !accept(.op(",")) {
                    try expect(.op("}"))
                    break
                }
            }
            return .dict(pairs)
        default:
            throw error("unexpected \(describe(t))")
        }
    }

    private mutating func parsePostfix(_ start: JinjaExpr) throws -> JinjaExpr {
        let saved = nesting
        defer { nesting = saved }
        var node = start
        while true {
            if peek == .op(".") || peek == .op("[") || peek == .op("(") { try deeper() }
            if accept(.op(".")) {
                if case .int(let k)? = peek {
                    i += 1
                    node = .index(node, .int(k))
                    continue
                }
                node = .attribute(node, try name())
            } else if accept(.op("[")) {
                node = try parseSubscript(node)
            } else if peek == .op("(") {
                node = try parseCall(node)
            } else {
                return node
            }
        }
    }

    private mutating func parseSubscript(_ target: JinjaExpr) throws -> JinjaExpr {
        var parts: [JinjaExpr?] = []
        var current: JinjaExpr?
        var sawColon = false
        while true {
            if accept(.op("]")) {
                parts.append(current)
                break
            }
            if accept(.op(":")) {
                parts.append(current)
                current = nil
                sawColon = true
                continue
            }
            current = try parseExpression()
        }
        if !sawColon {
            guard let index = parts.first ?? nil else { throw error("empty subscript []") }
            return .index(target, index)
        }
        guard parts.count <= 3 else { throw error("too many ':' in slice") }
        return .slice(target, parts[0], parts.count > 1 ? parts[1] : nil, parts.count > 2 ? parts[2] : nil)
    }

    private mutating func parseArguments() throws -> ([JinjaExpr], [(String, JinjaExpr)]) {
        try expect(.op("("))
        var args: [JinjaExpr] = []
        var kwargs: [(String, JinjaExpr)] = []
        while !accept(.op(")")) {
            if case .name(let n)? = peek, i + 1 < tokens.count, tokens[i + 1] == .op("=") {
                i += 2
                kwargs.append((n, try parseExpression()))
            } else {
                args.append(try parseExpression())
            }
            if !accept(.op(",")) {
                try expect(.op(")"))
                break
            }
        }
        return (args, kwargs)
    }

    private mutating func parseCall(_ callee: JinjaExpr) throws -> JinjaExpr {
        let (args, kwargs) = try parseArguments()
        return .call(callee, args: args, kwargs: kwargs)
    }

    private mutating func parseFilterExpr(_ start: JinjaExpr) throws -> JinjaExpr {
        let saved = nesting
        defer { nesting = saved }
        var node = start
        while true {
            if peek == .op("|") || peek == .name("is") || peek == .op("(") { try deeper() }
            if accept(.op("|")) {
                let filterName = try name()
                var args: [JinjaExpr] = []
                var kwargs: [(String, JinjaExpr)] = []
                if peek == .op("(") { (args, kwargs) = try parseArguments() }
                node = .filter(node, name: filterName, args: args, kwargs: kwargs)
            } else if accept(.name("is")) {
                let negated = accept(.name("not"))
                var testName = try name()
                if testName == "none" || testName == "None" { testName = "none" }
                var args: [JinjaExpr] = []
                if peek == .op("(") {
                    args = try parseArguments().0
                } else if let t = peek, testArgumentStart(t) {
                    args = [try parsePostfix(try parsePrimary())]
                }
                node = .test(node, name: testName, args: args, negated: negated)
            } else if peek == .op("(") {
                node = try parseCall(node)
            } else {
                return node
            }
        }
    }

    /// Tests like `is sameas false` / `is divisibleby 3` take one argument without parentheses.
    private func testArgumentStart(_ t: JinjaToken) -> Bool {
        switch t {
        case .string, .int, .float: return true
        case .name(let n): return !["and", "or", "else", "if", "in", "not", "is"].contains(n)
        case .op(let o): return o == "[" || o == "{"
        }
    }
}
