import Foundation

/// An error reading or writing a model file, whose message names the file, the place and what
/// was expected.
///
/// Every loader in this module throws this type for bad input, so callers can show
/// `error.description` to the user as is: messages are at most 4 KB with control characters
/// escaped (`ErrorText.bounded`), and tensor names are clipped.
public struct FormatError: Error, CustomStringConvertible, LocalizedError, Sendable, Equatable {
    /// The full message, starting with the file's name.
    public let message: String

    /// Creates an error with an already complete message.
    public init(_ message: String) { self.message = ErrorText.bounded(message) }

    /// Creates an error about `file`: "`<path>`: `<problem>`".
    public init(_ file: URL, _ problem: String) { self.message = ErrorText.bounded("\(file.path): \(problem)") }

    /// Creates an error about one tensor of `file`: "`<path>`: tensor '`<name>`': `<problem>`".
    public init(_ file: URL, tensor: String, _ problem: String) {
        self.message = ErrorText.bounded("\(file.path): tensor '\(ErrorText.clip(tensor))': \(problem)")
    }

    public var description: String { message }
    public var errorDescription: String? { message }
}
