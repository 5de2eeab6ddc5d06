import Foundation
import LEMFormats

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A judge behind any OpenAI-compatible `/chat/completions` endpoint, asked through the one
/// `OpenAIClient` (bounded replies, hard deadlines).
///
/// `baseURL` is the API root (`http://host:8080/v1`); `/chat/completions` is appended unless
/// already present. The API key is only ever placed in the `Authorization` header — never in
/// errors, logs or the store.
public struct HTTPJudgeBackend: JudgeBackend {
    /// The endpoint receiving POSTs.
    public let endpoint: URL
    /// The `model` field sent with each request.
    public let model: String
    /// Sampling temperature requested from the judge.
    public let temperature: Double
    /// Maximum tokens requested for the reply.
    public let maxTokens: Int
    private let client: OpenAIClient

    /// Seconds before a request is abandoned as timed out.
    public var timeout: Double { client.timeout }
    /// The most bytes of a reply body read; a longer reply fails the call.
    public var maxReplyBytes: Int { client.maxReplyBytes }

    /// The default `maxReplyBytes`: a verdict of `maxTokens` tokens is a few kilobytes, so a
    /// reply past 4 MiB is not one.
    public static let defaultMaxReplyBytes = 4 << 20

    public var identity: String { "\(model)@\(endpoint.host ?? endpoint.absoluteString)" }

    /// Creates a backend sending `apiKey` (if any) as a bearer token.
    public init(
        baseURL: URL, model: String, apiKey: String? = nil, timeout: Double = 60,
        temperature: Double = 0, maxTokens: Int = 512, maxReplyBytes: Int = defaultMaxReplyBytes
    ) {
        client = OpenAIClient(baseURL: baseURL, apiKey: apiKey, timeout: timeout, maxReplyBytes: maxReplyBytes)
        endpoint = client.endpoint("chat/completions")
        self.model = model
        self.temperature = temperature
        self.maxTokens = maxTokens
    }

    public func complete(prompt: String) async throws -> String {
        let body = OpenAIClient.chatBody(
            model: model, messages: [.user(prompt)], temperature: temperature, maxTokens: maxTokens)
        let reply = try await client.post("chat/completions", json: body)
        try client.check(reply, path: "chat/completions")
        guard let content = reply.json?["choices"]?.array?.first?["message"]?["content"]?.string else {
            // The endpoint answered but not in the chat-completions shape: keep the body as the reply
            // so it is stored unscored with the raw text rather than dropped.
            return String(decoding: reply.body, as: UTF8.self)
        }
        return content
    }
}
