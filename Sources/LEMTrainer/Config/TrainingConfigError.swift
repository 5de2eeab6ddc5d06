import Foundation
import LEMFormats

/// A problem with the training configuration (YAML file or command-line flags), naming the key
/// and, for YAML, the file and line.
public enum TrainingConfigError: Error, Equatable, LocalizedError, CustomStringConvertible {
    /// A key that mlx_lm's config does not have.
    case unknownKey(key: String, place: String)
    /// A known key with a value of the wrong type or out of range.
    case invalid(key: String, reason: String)
    /// A key mlx_lm knows that this trainer does not implement.
    case unsupported(key: String, reason: String)
    /// The config file could not be read or is not YAML.
    case unreadable(file: String, reason: String)
    /// Something a run needs is not given (no model, no data, neither training nor testing).
    case incomplete(String)

    /// The message: at most 4 KB, control characters escaped.
    public var errorDescription: String? { ErrorText.bounded(text) }

    /// The same message, for string interpolation.
    public var description: String { ErrorText.bounded(text) }

    private var text: String {
        switch self {
        case .unknownKey(let key, let place): return "\(place): unknown config key '\(key)'"
        case .invalid(let key, let reason): return "config key '\(key)': \(reason)"
        case .unsupported(let key, let reason): return "config key '\(key)' is not supported: \(reason)"
        case .unreadable(let file, let reason): return "\(file): \(reason)"
        case .incomplete(let message): return message
        }
    }
}
