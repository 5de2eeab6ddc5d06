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
    let tokenizer: Tokenizer
    /// nil when the vocabulary has no template and no known turn markers.
    let template: ChatTemplate?

    /// Loads the tokenizer (and chat template, if any) of an opened checkpoint.
    init(files: ModelFiles) throws {
        tokenizer = try Tokenizer.load(from: files.url)
        template = try? ChatTemplate(tokenizer: tokenizer)
    }

    /// Tokenizes `text`.
    func encode(_ text: String, addSpecialTokens: Bool) throws -> [Int] {
        try tokenizer.encode(text, addSpecialTokens: addSpecialTokens)
    }

    /// Renders `messages` with the chat template (generation prompt added) and tokenizes it; the
    /// template writes any BOS itself, so no special tokens are added again.
    func chatPrompt(_ messages: [ChatTurn]) throws -> [Int] {
        guard let template else {
            throw ValidationErrorText("this model has no chat template and no known turn markers; drop --chat")
        }
        let text = try template.render(messages: messages.map { ChatMessage(role: $0.role, content: $0.content) })
        return try tokenizer.encode(text, addSpecialTokens: false)
    }

    /// Makes streaming decoders for generated ids (special tokens left out of the text).
    var decoderFactory: (@Sendable () -> any StreamingTextDecoder)? {
        let tokenizer = self.tokenizer
        return { StreamingDetokenizer(tokenizer: tokenizer, skipSpecialTokens: true) }
    }

    /// End-of-sequence ids from the tokenizer, plus the end-of-turn markers of chat formats.
    var eosIds: [Int] {
        var ids = Array(tokenizer.eosTokenIds)
        for marker in ["<|im_end|>", "<end_of_turn>", "<|eot_id|>"] {
            if let id = tokenizer.tokenId(marker) { ids.append(id) }
        }
        return ids
    }

    /// Strings that end an assistant turn in the chat format, should the model spell them out.
    var chatStopStrings: [String] { ["<|im_end|>", "<end_of_turn>", "<|eot_id|>"] }
}

/// A plain error carrying its message.
struct ValidationErrorText: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
