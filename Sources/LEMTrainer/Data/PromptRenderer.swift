import LEMCore

/// What the trainer needs from a tokenizer and chat template to turn records into tokens.
///
/// Kept to a protocol so data loading and batching work (and are tested) without a particular
/// tokenizer; the engine's tokenizer + chat template conform to it through an adapter.
public protocol PromptRenderer: Sendable {
    /// Token ids of `messages` rendered by the chat template, as transformers'
    /// `apply_chat_template(messages, add_generation_prompt:, tokenize=True)` returns them
    /// (special tokens come from the template itself).
    func chatTokens(_ messages: [ChatMessage], addGenerationPrompt: Bool) throws -> [Int]
    /// Token ids of plain text (`tokenizer.encode(text)`, with the tokenizer's usual BOS handling).
    func encode(_ text: String) throws -> [Int]
    /// The end-of-sequence id appended to text records.
    var eosTokenId: Int { get }
}

/// A record turned into tokens, with the index of the first token the loss is computed on.
public struct TokenizedExample: Sendable, Equatable {
    public var tokens: [Int]
    /// Tokens before this index are prompt (masked with `--mask-prompt`); 0 trains on all.
    public var offset: Int
    /// The number of JSON keys of the source record (mlx_lm 0.32's sort key).
    public var keyCount: Int
    /// Creates a tokenized example.
    public init(tokens: [Int], offset: Int, keyCount: Int = 1) {
        self.tokens = tokens
        self.offset = offset
        self.keyCount = keyCount
    }
}

extension DatasetSplit {
    /// Tokenizes every record as mlx_lm's dataset classes do.
    ///
    /// - chat: the whole conversation through the template; with `maskPrompt`, the offset is the
    ///   length of `messages[..<last]` rendered with a generation prompt when the last message
    ///   is the assistant's (mlx_lm `ChatDataset`).
    /// - completion: `[user: prompt, assistant: completion]`; offset = the user turn with a
    ///   generation prompt (mlx_lm `CompletionsDataset`).
    /// - text: `encode(text)` plus EOS when it does not already end with it; `maskPrompt` is an
    ///   error, as in mlx_lm.
    public func tokenize(with renderer: some PromptRenderer, maskPrompt: Bool) throws -> [TokenizedExample] {
        if maskPrompt && format == .text {
            throw DatasetError.badLine(
                file: file.path, line: records.first?.line ?? 0,
                reason: "prompt masking is not supported for text records")
        }
        return try records.map { record in
            do {
                return try Self.tokenize(record, renderer: renderer, maskPrompt: maskPrompt)
            } catch let error as DatasetError {
                throw error
            } catch {
                throw DatasetError.rendering(file: file.path, line: record.line, reason: "\(error)")
            }
        }
    }

    static func tokenize(_ record: TrainingRecord, renderer: some PromptRenderer, maskPrompt: Bool) throws
        -> TokenizedExample
    {
        switch record.example {
        case .text(let text):
            var tokens = try renderer.encode(text)
            if tokens.last != renderer.eosTokenId { tokens.append(renderer.eosTokenId) }
            return TokenizedExample(tokens: tokens, offset: 0, keyCount: record.keyCount)
        case .chat(let messages):
            let tokens = try renderer.chatTokens(messages, addGenerationPrompt: false)
            guard maskPrompt else { return TokenizedExample(tokens: tokens, offset: 0, keyCount: record.keyCount) }
            let prompt = try renderer.chatTokens(
                Array(messages.dropLast()),
                addGenerationPrompt: messages.last?.role == "assistant")
            return TokenizedExample(tokens: tokens, offset: prompt.count, keyCount: record.keyCount)
        case .completion(let prompt, let completion):
            let messages = [ChatMessage.user(prompt), ChatMessage.assistant(completion)]
            let tokens = try renderer.chatTokens(messages, addGenerationPrompt: false)
            guard maskPrompt else { return TokenizedExample(tokens: tokens, offset: 0, keyCount: record.keyCount) }
            let promptTokens = try renderer.chatTokens(Array(messages.prefix(1)), addGenerationPrompt: true)
            return TokenizedExample(tokens: tokens, offset: promptTokens.count, keyCount: record.keyCount)
        }
    }
}
