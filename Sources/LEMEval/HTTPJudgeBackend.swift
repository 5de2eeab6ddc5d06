import Foundation
import LEMFormats

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A judge behind any OpenAI-compatible `/chat/completions` endpoint.
///
/// `baseURL` is the API root (`http://host:8080/v1`); `/chat/completions` is appended unless
/// already present. The API key is only ever placed in the `Authorization` header — never in
/// errors, logs or the store.
public struct HTTPJudgeBackend: JudgeBackend {
    /// The endpoint receiving POSTs.
    public let endpoint: URL
    /// The `model` field sent with each request.
    public let model: String
    /// Seconds before a request is abandoned as timed out.
    public let timeout: Double
    /// Sampling temperature requested from the judge.
    public let temperature: Double
    /// Maximum tokens requested for the reply.
    public let maxTokens: Int
    /// The most bytes of a reply body read; a longer reply fails the call (see `BoundedHTTPClient`).
    public let maxReplyBytes: Int
    private let apiKey: String?
    private let client = BoundedHTTPClient()

    /// The default `maxReplyBytes`: a verdict of `maxTokens` tokens is a few kilobytes, so a
    /// reply past 4 MiB is not one.
    public static let defaultMaxReplyBytes = 4 << 20

    public var identity: String { "\(model)@\(endpoint.host ?? endpoint.absoluteString)" }

    /// Creates a backend sending `apiKey` (if any) as a bearer token.
    public init(
        baseURL: URL, model: String, apiKey: String? = nil, timeout: Double = 60,
        temperature: Double = 0, maxTokens: Int = 512, maxReplyBytes: Int = defaultMaxReplyBytes
    ) {
        endpoint =
            baseURL.path.hasSuffix("/chat/completions") ? baseURL : baseURL.appendingPathComponent("chat/completions")
        self.model = model
        self.timeout = timeout
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.maxReplyBytes = max(1, maxReplyBytes)
        self.apiKey = apiKey.flatMap { $0.isEmpty ? nil : $0 }
    }

    public func complete(prompt: String) async throws -> String {
        var headers = [("Content-Type", "application/json"), ("Accept", "application/json")]
        if let apiKey { headers.append(("Authorization", "Bearer \(apiKey)")) }
        let body: [String: Any] = [
            "model": model, "temperature": temperature, "max_tokens": maxTokens,
            "messages": [["role": "user", "content": prompt]]
        ]
        let json = try JSONSerialization.data(withJSONObject: body)
        let (data, status) = try await client.post(
            endpoint, headers: headers, body: json, limit: maxReplyBytes,
            timeout: timeout)
        guard (200..<300).contains(status) else {
            let snippet = ErrorText.clip(String(decoding: data.prefix(400), as: UTF8.self), limit: 200)
            throw JudgeError(
                "HTTP \(status) from \(endpoint.absoluteString): \(snippet)",
                retryable: status == 429 || status >= 500)
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let choices = object["choices"] as? [[String: Any]], let first = choices.first,
            let message = first["message"] as? [String: Any], let content = message["content"] as? String
        else {
            // The endpoint answered but not in the chat-completions shape: keep the body as the reply
            // so it is stored unscored with the raw text rather than dropped.
            return String(decoding: data, as: UTF8.self)
        }
        return content
    }
}
