import Foundation
import LEMEngine
import LEMScoring

/// A model loaded once by the engine, answering chat messages: the checkpoint's tokenizer and
/// chat template, one `Generator`, and the end-of-turn handling of chat formats.
///
/// Shared by the benchmark runner (`EngineResponseGenerator`) and the local judge
/// (`LocalJudgeBackend`). Calls are served one at a time on the generator's queue; an `async`
/// caller is suspended, not blocked, and cancelling its task stops the generation before the
/// next token.
public final class LocalChatModel: Sendable {
    /// The engine model.
    public let model: any LanguageModel
    /// Its tokenizer.
    public let tokenizer: Tokenizer
    /// Its chat template; nil for a model with none (prompts are then plain text).
    public let template: ChatTemplate?
    /// A name for logs and stored records (the checkpoint's file or folder name).
    public let name: String
    let generator: Generator

    /// Markers that end an assistant turn in the chat formats the engine knows.
    static let endOfTurnMarkers = ["<|im_end|>", "<end_of_turn>", "<|eot_id|>"]

    /// Wraps an already built model with the tokenizer found at `tokenizerURL` (the checkpoint).
    public init(model: any LanguageModel, tokenizerURL: URL, name: String? = nil) throws {
        self.model = model
        tokenizer = try Tokenizer.load(from: tokenizerURL)
        template = try? ChatTemplate(tokenizer: tokenizer)
        self.name = name ?? tokenizerURL.lastPathComponent
        let tokenizer = self.tokenizer
        generator = Generator(model: model) { StreamingDetokenizer(tokenizer: tokenizer, skipSpecialTokens: true) }
    }

    /// Loads a `.gguf` file or model folder, to run with `options`.
    public convenience init(url: URL, options: EngineOptions = EngineOptions()) throws {
        try self.init(model: try ModelFactory.load(url, options: options), tokenizerURL: url)
    }

    /// Ids that end a reply: the tokenizer's and config's EOS ids and the end-of-turn markers.
    public var stopTokenIds: Set<Int> {
        var ids = tokenizer.eosTokenIds.union(model.config.eosTokenIds)
        for marker in Self.endOfTurnMarkers {
            if let id = tokenizer.tokenId(marker) { ids.insert(id) }
        }
        return ids
    }

    /// The prompt ids for `messages`: the chat template with the generation prompt, or — for a
    /// model without a template — the contents joined by blank lines after the BOS token.
    public func promptIds(_ messages: [PromptMessage]) throws -> [Int] {
        if let template {
            let text = try template.render(messages: messages.map { ChatMessage(role: $0.role, content: $0.content) })
            return try tokenizer.encode(text, addSpecialTokens: false)
        }
        return try tokenizer.encode(messages.map(\.content).joined(separator: "\n\n"), addSpecialTokens: true)
    }

    /// Generates a reply to `messages`; stops at EOS / end of turn or after `maxTokens`.
    ///
    /// Returns the text, the generated token count (the stopping EOS not counted) and the wall
    /// time of prefill plus generation. Throws `CancellationError` if the task was cancelled, so
    /// that a partial answer is never stored as a finished one.
    public func reply(to messages: [PromptMessage], maxTokens: Int, sampling: SamplingParameters) async throws
        -> GeneratedResponse {
        let request = GenerationRequest(
            promptIds: try promptIds(messages), maxTokens: maxTokens, sampling: sampling,
            stopTokenIds: stopTokenIds, stopStrings: template == nil ? [] : Self.endOfTurnMarkers)
        try Task.checkCancellation()
        let handle = GenerationHandle()
        let collected = ReplyBox()
        let started = DispatchTime.now().uptimeNanoseconds
        let stats: GenerationStats = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                generator.start(request, handle: handle) { event in
                    switch event {
                    case .token(_, let text): collected.append(text)
                    case .finished(let stats): continuation.resume(returning: stats)
                    case .failed(let error): continuation.resume(throwing: error)
                    case .promptProcessed: break
                    }
                }
            }
        } onCancel: {
            handle.cancel()
        }
        if stats.stopReason == .cancelled || Task.isCancelled { throw CancellationError() }
        var tokens = stats.generatedTokens
        if case .endOfSequence = stats.stopReason { tokens -= 1 }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        return GeneratedResponse(text: collected.text.trimmingCharacters(in: .whitespacesAndNewlines),
                                 tokens: tokens, seconds: seconds)
    }
}

/// Text gathered from generation events on the generator's queue.
private final class ReplyBox: @unchecked Sendable {
    private let lock = NSLock()
    private var parts = ""

    func append(_ s: String) {
        lock.lock()
        parts += s
        lock.unlock()
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return parts
    }
}
