import Foundation
import LEMCore

/// A judge behind any OpenAI-compatible `/chat/completions` endpoint, through `OpenAIClient`.
///
/// `baseURL` is the API root (`http://host:8080/v1`); `/chat/completions` is appended unless
/// already present. The API key is only ever placed in the `Authorization` header — never in
/// errors, logs or the store.
public struct HTTPJudgeBackend: JudgeBackend {
    /// The endpoint receiving POSTs.
    public var endpoint: URL { client.endpoint("chat/completions") }
    /// The `model` field sent with each request.
    public let model: String
    /// Seconds before a request is abandoned as timed out.
    public var timeout: Double { client.timeout }
    /// Sampling temperature requested from the judge.
    public let temperature: Double
    /// Maximum tokens requested for the reply.
    public let maxTokens: Int
    private let client: OpenAIClient

    public var identity: String { "\(model)@\(endpoint.host ?? endpoint.absoluteString)" }

    /// Creates a backend sending `apiKey` (if any) as a bearer token.
    public init(baseURL: URL, model: String, apiKey: String? = nil, timeout: Double = 60,
                temperature: Double = 0, maxTokens: Int = 512) {
        client = OpenAIClient(baseURL: baseURL, apiKey: apiKey, timeout: timeout)
        self.model = model
        self.temperature = temperature
        self.maxTokens = maxTokens
    }

    public func complete(prompt: String) async throws -> String {
        let body = JSONValue.object(JSONObject(members: [
            ("model", .string(model)), ("temperature", .double(temperature)), ("max_tokens", .int(maxTokens)),
            ("messages", .array([.object(JSONObject(members: [("role", .string("user")), ("content", .string(prompt))]))])),
        ]))
        let reply: OpenAIClient.Reply
        do {
            reply = try await client.post("chat/completions", json: body)
            try client.check(reply, path: "chat/completions")
        } catch let error as OpenAIClientError {
            throw JudgeError(error.message, retryable: error.retryable)
        }
        guard let content = reply.json?["choices"]?.array?.first?["message"]?["content"]?.string else {
            // The endpoint answered but not in the chat-completions shape: keep the body as the reply
            // so it is stored unscored with the raw text rather than dropped.
            return String(decoding: reply.body, as: UTF8.self)
        }
        return content
    }
}
