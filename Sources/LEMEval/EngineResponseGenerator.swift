import Foundation
import LEMCore
import LEMEngine
import LEMStore

/// The local engine as a benchmark `ResponseGenerator`: one loaded model answering each item's
/// messages with the run's sampling settings.
public struct EngineResponseGenerator: ResponseGenerator {
    /// The loaded model.
    public let model: LoadedModel

    /// Creates a generator over a loaded model.
    public init(model: LoadedModel) { self.model = model }

    public func generate(messages: [ChatMessage], sampling: SamplingSettings) async throws -> GeneratedResponse {
        // Items are independent: the prompt (the kernel, the instruction) is worth keeping, not the answer.
        let reply = try await model.reply(to: messages, sampling: sampling, continues: false)
        return GeneratedResponse(text: reply.text, tokens: reply.tokens, seconds: reply.seconds)
    }
}

/// A judge run by the local engine: the rubric prompt as one user turn, greedy decoding by
/// default, the reply returned as text for `JudgeVerdict` to parse (a reply that is not JSON is
/// stored unscored with its raw text by `JudgePass`).
///
/// The engine decodes up to `model.generator.maxBatch` requests together: run a `JudgePass` over
/// it with that concurrency.
public struct LocalJudgeBackend: JudgeBackend {
    /// The loaded judge model.
    public let model: LoadedModel
    /// Sampling for the verdict (greedy, 384 tokens, unless told otherwise).
    public let sampling: SamplingSettings

    /// `local:<file>` or `local:<file>+<adapter folder>`, as stored with the verdicts.
    public var identity: String {
        "local:" + model.key.modelURL.lastPathComponent
            + (model.key.adapterURL.map { "+" + $0.lastPathComponent } ?? "")
    }

    /// Creates a judge over a loaded model.
    public init(model: LoadedModel, sampling: SamplingSettings = SamplingSettings(maxTokens: 384)) {
        self.model = model
        self.sampling = sampling
    }

    /// Below this many parameters a judge model is warned about: models this small seldom
    /// answer the rubric with its JSON object (SmolLM2-135M and Gemma 3 270M write none).
    public static let smallModelParameters = 1_000_000_000

    /// A warning when the model is smaller than `smallModelParameters`.
    public var caveat: String? {
        let n = model.config.parameterEstimate
        guard n < Self.smallModelParameters else { return nil }
        let size = n >= 1_000_000 ? "\(n / 1_000_000) M" : "\(max(1, n / 1000)) k"
        return "small judge: \(model.key.modelURL.lastPathComponent) has about \(size) parameters; "
            + "models under 1 B seldom write the rubric's JSON verdict, so expect unscored answers "
            + "(use a larger model or a judge URL)"
    }

    public func complete(prompt: String) async throws -> String {
        do {
            return try await model.reply(to: [.user(prompt)], sampling: sampling, continues: false).text
        } catch let error as CancellationError {
            throw error
        } catch {
            // An engine failure (e.g. the prompt overflows the context) will fail again: not retryable.
            throw JudgeError("local judge \(model.title): \(error)", retryable: false)
        }
    }
}
