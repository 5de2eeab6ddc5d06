import LEMFormats

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
    /// An error of the template read from `source` (a file and key, or a GGUF key).
    indirect case inTemplate(source: String, TemplateError)

    /// A human-readable description naming the template (when known) and line, at most 4 KB
    /// with control characters escaped.
    public var description: String {
        switch self {
        case let .syntax(line, message):
            return ErrorText.bounded("chat template line \(line): syntax error: \(message)")
        case let .runtime(line, message): return ErrorText.bounded("chat template line \(line): \(message)")
        case let .raised(message): return ErrorText.bounded("chat template raised an exception: \(message)")
        case let .missing(path): return ErrorText.bounded("\(path): no chat template found")
        case let .inTemplate(source, error): return ErrorText.bounded("\(source): \(error.description)")
        }
    }

    /// The error without the template's source.
    public var withoutSource: TemplateError {
        if case let .inTemplate(_, error) = self { return error.withoutSource }
        return self
    }
}
