/// Errors from parsing or rendering a Jinja chat template; each names the template line.
public enum TemplateError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The template uses syntax this interpreter does not accept.
    case syntax(line: Int, message: String)
    /// Rendering failed (unknown filter, bad operand, …).
    case runtime(line: Int, message: String)
    /// The template called `raise_exception(message)`.
    case raised(message: String)
    /// No template is available for the model.
    case missing(path: String)

    /// A human-readable description naming the template line.
    public var description: String {
        switch self {
        case let .syntax(line, message): return "chat template line \(line): syntax error: \(message)"
        case let .runtime(line, message): return "chat template line \(line): \(message)"
        case let .raised(message): return "chat template raised an exception: \(message)"
        case let .missing(path): return "\(path): no chat template found"
        }
    }
}
