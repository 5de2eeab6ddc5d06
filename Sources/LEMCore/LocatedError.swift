/// A failure with the place it happened: reading a file into the store, a benchmark or probe
/// file, a query, a run's settings.
///
/// Messages name the file and, where there is one, the line (1-based) or JSON key path, and say
/// what was expected, so a user can fix the input.
public struct LocatedError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file or object the error is about.
    public var location: String
    /// What went wrong and what was expected.
    public var message: String

    /// Creates an error at `location`.
    public init(_ location: String, _ message: String) {
        self.location = location
        self.message = message
    }

    /// Creates an error at a line of a file.
    public init(file: String, line: Int, _ message: String) {
        self.init("\(file):\(line)", message)
    }

    public var description: String { "\(location): \(message)" }
}
