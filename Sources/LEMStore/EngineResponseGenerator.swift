import Foundation
import LEMEngine
import LEMScoring

/// The local engine as a benchmark `ResponseGenerator`: one loaded model answering each item's
/// messages with the run's sampling settings (`maxTokens` from the settings).
public struct EngineResponseGenerator: ResponseGenerator {
    /// The loaded model.
    public let model: LocalChatModel

    /// Creates a generator over a loaded model.
    public init(model: LocalChatModel) { self.model = model }

    public func generate(messages: [PromptMessage], sampling: SamplingSettings) async throws -> GeneratedResponse {
        try await model.reply(to: messages, maxTokens: sampling.maxTokens, sampling: sampling.engineParameters)
    }
}

/// A judge run by the local engine: the rubric prompt as one user turn, greedy decoding by
/// default, the reply returned as text for `JudgeVerdict` to parse (a reply that is not JSON is
/// stored unscored with its raw text by `JudgePass`).
///
/// The engine serves one request at a time, so run a `JudgePass` over it with concurrency 1.
public struct LocalJudgeBackend: JudgeBackend {
    /// The loaded judge model.
    public let model: LocalChatModel
    /// Most tokens per verdict.
    public let maxTokens: Int
    /// Sampling for the verdict (greedy unless told otherwise).
    public let sampling: SamplingParameters

    public var identity: String { "local:\(model.name)" }

    /// Creates a judge over a loaded model.
    public init(model: LocalChatModel, maxTokens: Int = 384, sampling: SamplingParameters = .greedy) {
        self.model = model
        self.maxTokens = maxTokens
        self.sampling = sampling
    }

    public func complete(prompt: String) async throws -> String {
        do {
            return try await model.reply(to: [PromptMessage(role: "user", content: prompt)], maxTokens: maxTokens,
                                         sampling: sampling).text
        } catch let error as CancellationError {
            throw error
        } catch {
            // An engine failure (e.g. the prompt overflows the context) will fail again: not retryable.
            throw JudgeError("local judge \(model.name): \(error)", retryable: false)
        }
    }
}
