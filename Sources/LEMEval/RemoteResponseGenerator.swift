import Foundation
import LEMCore
import LEMStore

/// A benchmark `ResponseGenerator` on any OpenAI-compatible server: each item's messages sent
/// to `/chat/completions` with the run's sampling settings, retried with exponential backoff on
/// 429, 5xx, timeouts and connection errors.
///
/// Answers are trimmed as the local engine's are, so a remote run is stored exactly as a local
/// one; the run records `engine` so the two are never resumed as each other.
public struct RemoteResponseGenerator: ResponseGenerator {
    /// The server.
    public let client: OpenAIClient
    /// The `model` field sent (the server's name for the model).
    public let model: String
    /// Extra attempts after a retryable failure.
    public let retries: Int
    /// Seconds before the first retry, doubled for each further one.
    public let backoff: Double

    /// A generator asking `client` for `model`.
    public init(client: OpenAIClient, model: String, retries: Int = 4, backoff: Double = 1) {
        self.client = client
        self.model = model
        self.retries = max(0, retries)
        self.backoff = backoff
    }

    /// How a run on this server is recorded: `openai:<API root> model=<name>`.
    public var engine: String { "openai:\(client.baseURL.absoluteString) model=\(model)" }

    public func generate(messages: [ChatMessage], sampling: SamplingSettings) async throws -> GeneratedResponse {
        let start = Date()
        var attempt = 0
        while true {
            do {
                let reply = try await client.chat(
                    model: model, messages: messages, temperature: sampling.temperature, maxTokens: sampling.maxTokens,
                    extra: Self.extraFields(sampling))
                return GeneratedResponse(
                    text: reply.content.trimmingCharacters(in: .whitespacesAndNewlines), tokens: reply.completionTokens,
                    seconds: Date().timeIntervalSince(start))
            } catch let error as OpenAIClientError where error.retryable && attempt < retries {
                try await Task.sleep(nanoseconds: UInt64(backoff * pow(2, Double(attempt)) * 1e9))
                attempt += 1
            }
        }
    }

    /// The sampling fields beyond temperature and max_tokens, sent only when they differ from
    /// "off" (hosted APIs refuse fields they do not know; vLLM, llama.cpp and `lem serve` read them).
    public static func extraFields(_ s: SamplingSettings) -> [(String, JSONValue)] {
        var fields: [(String, JSONValue)] = []
        if s.topP != 1 { fields.append(("top_p", .double(s.topP))) }
        if s.topK > 0 { fields.append(("top_k", .int(s.topK))) }
        if s.minP > 0 { fields.append(("min_p", .double(s.minP))) }
        if s.repetitionPenalty != 1 { fields.append(("repetition_penalty", .double(s.repetitionPenalty))) }
        if let seed = s.seed { fields.append(("seed", .int(Int(truncatingIfNeeded: seed)))) }
        return fields
    }
}
