import Foundation
import LEMEngine
import LEMFormats

/// One message of a chat.
struct ChatTurn: Codable, Equatable {
    var role: String
    var content: String
}

/// Text in and out of a model: its tokenizer and chat template, loaded from the checkpoint.
struct TextSupport {
    /// Loads the tokenizer of an opened checkpoint.
    init(files: ModelFiles) throws {
        throw ValidationErrorText("\(files.url.path): text input/output needs the tokenizer, which this build does not include yet; use --ids")
    }

    /// Tokenizes `text`.
    func encode(_ text: String, addSpecialTokens: Bool) throws -> [Int] { [] }

    /// Renders `messages` with the chat template (generation prompt added) and tokenizes it.
    func chatPrompt(_ messages: [ChatTurn]) throws -> [Int] { [] }

    /// Makes streaming decoders for generated ids.
    var decoderFactory: (@Sendable () -> any StreamingTextDecoder)? { nil }

    /// End-of-sequence ids from the tokenizer.
    var eosIds: [Int] { [] }

    /// Strings that end an assistant turn in the chat format.
    var chatStopStrings: [String] { [] }
}

/// A plain error carrying its message.
struct ValidationErrorText: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
