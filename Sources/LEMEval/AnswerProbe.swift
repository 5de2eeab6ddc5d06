import Foundation
import LEMCore
import LEMEngine
import LEMScoring

/// Answers a fixed set of prompts with a base model plus an adapter and scores each answer
/// with the LEK heuristic: the engine side of a training probe.
///
/// Each probe builds the model afresh with the given adapter folder applied unfused (the base
/// files are memory-mapped, so only the adapter is read), answers every prompt greedily as one
/// user turn (the chat template when the model has one) and scores the text with
/// `LEKHeuristic`'s composite. Runs synchronously on the caller's thread.
public struct AnswerProbe: Sendable {
    /// One prompt answered and scored.
    public struct Answer: Sendable, Equatable {
        public var prompt: ProbePrompt
        /// The generated text, trimmed.
        public var text: String
        /// Generated tokens (the stopping EOS not counted).
        public var tokens: Int
        /// `LEKHeuristic`'s composite of `text`.
        public var score: Double
    }

    /// The base model (a `.gguf` file or a model folder).
    public let model: URL
    public let prompts: [ProbePrompt]
    /// New tokens per answer.
    public let maxTokens: Int
    /// The scorer's name, stored with the scores.
    public static let scorerName = LEKHeuristic().name

    /// Loads a model with an adapter (a `ModelPool`'s `model(for:)`, or a fresh load).
    let load: @Sendable (ModelKey) throws -> LoadedModel

    /// Creates a probe over a base model; `load` defaults to a fresh load each probe (the base
    /// files are memory-mapped, so only the adapter is read).
    public init(
        model: URL, prompts: [ProbePrompt], maxTokens: Int,
        load: @escaping @Sendable (ModelKey) throws -> LoadedModel = { try LoadedModel.load($0) }
    ) {
        self.model = model
        self.prompts = prompts
        self.maxTokens = maxTokens
        self.load = load
    }

    /// The score a probe gives an answer: the LEK heuristic composite.
    public static func score(_ text: String) -> Double { LEKHeuristic.breakdown(text).composite }

    /// Answers every prompt with the base model plus `adapterFolder` (nil: the base alone).
    ///
    /// Stops between tokens when `isCancelled` turns true, returning the answers finished so
    /// far and `cancelled: true` (the interrupted answer is dropped, never scored half-done).
    public func run(adapterFolder: URL?, isCancelled: @Sendable () -> Bool = { false }) throws
        -> (answers: [Answer], cancelled: Bool)
    {
        let chat = try load(ModelKey(model: model, adapter: adapterFolder))
        var answers: [Answer] = []
        for prompt in prompts {
            if isCancelled() { return (answers, true) }
            var request = try chat.chatRequest(
                messages: [.user(prompt.prompt)], sampling: SamplingSettings(maxTokens: maxTokens))
            request.keepAnswer = false  // independent prompts: only their shared start is worth keeping
            let handle = GenerationHandle()
            var text = ""
            var failure: (any Error)?
            let stats = chat.generator.run(request, handle: handle) { event in
                switch event {
                case .token(_, let piece):
                    text += piece
                    if isCancelled() { handle.cancel() }
                case .failed(let error): failure = error
                default: break
                }
            }
            if let failure { throw failure }
            guard let stats else { throw LocatedError(model.path, "probe generation failed for \(prompt.id)") }
            if stats.stopReason == .cancelled { return (answers, true) }
            var tokens = stats.generatedTokens
            if case .endOfSequence = stats.stopReason { tokens -= 1 }
            let answer = text.trimmingCharacters(in: .whitespacesAndNewlines)
            answers.append(Answer(prompt: prompt, text: answer, tokens: tokens, score: Self.score(answer)))
        }
        return (answers, false)
    }
}
