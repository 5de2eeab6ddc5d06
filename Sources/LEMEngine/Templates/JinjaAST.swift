/// A Jinja expression.
indirect enum JinjaExpr: Sendable {
    case string(String)
    case int(Int)
    case float(Double)
    case bool(Bool)
    case none
    case name(String)
    case list([JinjaExpr])
    case dict([(JinjaExpr, JinjaExpr)])
    case attribute(JinjaExpr, String)
    case index(JinjaExpr, JinjaExpr)
    case slice(JinjaExpr, JinjaExpr?, JinjaExpr?, JinjaExpr?)
    case call(JinjaExpr, args: [JinjaExpr], kwargs: [(String, JinjaExpr)])
    case filter(JinjaExpr, name: String, args: [JinjaExpr], kwargs: [(String, JinjaExpr)])
    case test(JinjaExpr, name: String, args: [JinjaExpr], negated: Bool)
    case unary(String, JinjaExpr)
    case binary(String, JinjaExpr, JinjaExpr)
    case conditional(then: JinjaExpr, condition: JinjaExpr, otherwise: JinjaExpr?)
}

/// The target of `{% set %}`: plain names (tuple unpacking) or `namespace.attribute`.
enum JinjaSetTarget: Sendable {
    case names([String])
    case attribute(String, String)
}

/// A Jinja template node.
indirect enum JinjaNode: Sendable {
    case text(String)
    case output(JinjaExpr, line: Int)
    case ifBlock(branches: [(JinjaExpr, [JinjaNode])], otherwise: [JinjaNode], line: Int)
    case forBlock(
        targets: [String], iterable: JinjaExpr, condition: JinjaExpr?, body: [JinjaNode],
        otherwise: [JinjaNode], line: Int)
    case set(JinjaSetTarget, JinjaExpr, line: Int)
    case setBlock(String, [JinjaNode], line: Int)
    case macro(name: String, parameters: [(String, JinjaExpr?)], body: [JinjaNode], line: Int)
    case breakLoop(line: Int)
    case continueLoop(line: Int)
    case block([JinjaNode])
}
