import Foundation
import LEMCore
import LEMEngine

/// The `PromptRenderer` of a real model: its tokenizer and chat template, as mlx_lm's datasets
/// use transformers' `apply_chat_template` and `encode`.
///
/// The template's text is tokenized without adding special tokens (the template writes BOS
/// itself), as `apply_chat_template(tokenize=True)` does; plain text goes through `encode` with
/// the tokenizer's usual BOS handling.
public struct TemplateRenderer: PromptRenderer {
    public let tokenizer: Tokenizer
    /// nil when the model has no chat template; then only text records can be rendered.
    public let template: ChatTemplate?
    public let eosTokenId: Int

    /// Wraps a tokenizer and template; throws when the tokenizer has no end-of-sequence token.
    public init(tokenizer: Tokenizer, template: ChatTemplate?) throws {
        self.tokenizer = tokenizer
        self.template = template
        guard let eos = tokenizer.eosToken.flatMap(tokenizer.tokenId) ?? tokenizer.eosTokenIds.min() else {
            throw TemplateError.missing(path: "tokenizer end-of-sequence token")
        }
        eosTokenId = eos
    }

    /// Loads the tokenizer and chat template of a model folder or GGUF file.
    public init(model url: URL) throws {
        let tokenizer = try Tokenizer.load(from: url)
        try self.init(tokenizer: tokenizer, template: try? ChatTemplate(tokenizer: tokenizer))
    }

    /// Renders with the chat template and tokenizes the text.
    public func chatTokens(_ messages: [ChatMessage], addGenerationPrompt: Bool) throws -> [Int] {
        guard let template else { throw TemplateError.missing(path: "chat template of the model's tokenizer") }
        let text = try template.render(
            messages: messages,
            addGenerationPrompt: addGenerationPrompt)
        return try tokenizer.encode(text, addSpecialTokens: false)
    }

    /// Tokenizes plain text.
    public func encode(_ text: String) throws -> [Int] {
        try tokenizer.encode(text, addSpecialTokens: true)
    }
}
