import Foundation
import LEMCore
import LEMFormats

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A client of an OpenAI-compatible HTTP API (vLLM, SGLang, llama.cpp's server, mlx-lm, Ollama,
/// `lem serve`, hosted APIs): the one way out for judges and remote benchmark engines.
///
/// `baseURL` is the API root (`http://host:8080/v1`). The API key is only ever placed in the
/// `Authorization` header — never in errors, logs or the store. Every call has a hard deadline
/// and a bounded reply (`BoundedHTTPClient`: a server we do not control cannot fill memory);
/// streamed chats (`streamChat`) bound the whole stream instead.
public struct OpenAIClient: Sendable {
    /// The API root.
    public let baseURL: URL
    /// Seconds before a call is abandoned as timed out.
    public let timeout: Double
    /// The most bytes of a reply body read; a longer reply fails the call (not retryable).
    public let maxReplyBytes: Int
    /// The bearer token sent, if any (only ever in the `Authorization` header).
    let apiKey: String?
    private let transport: BoundedHTTPClient

    /// The default `maxReplyBytes`: an answer of thousands of tokens with log-probabilities is
    /// well under it.
    public static let defaultMaxReplyBytes = 16 << 20

    /// A client sending `apiKey` (if any) as a bearer token.
    public init(baseURL: URL, apiKey: String? = nil, timeout: Double = 60, maxReplyBytes: Int = defaultMaxReplyBytes) {
        self.init(baseURL: baseURL, apiKey: apiKey, timeout: timeout, maxReplyBytes: maxReplyBytes, transport: .init())
    }

    init(baseURL: URL, apiKey: String?, timeout: Double, maxReplyBytes: Int, transport: BoundedHTTPClient) {
        self.baseURL = baseURL
        self.timeout = timeout
        self.maxReplyBytes = max(1, maxReplyBytes)
        self.apiKey = apiKey.flatMap { $0.isEmpty ? nil : $0 }
        self.transport = transport
    }

    /// `baseURL` + `path`, unless `baseURL` already ends with it.
    public func endpoint(_ path: String) -> URL {
        baseURL.path.hasSuffix("/" + path) ? baseURL : baseURL.appendingPathComponent(path)
    }

    /// An HTTP reply: status and body.
    public struct Reply: Sendable {
        public var status: Int
        public var body: Data
        /// The body as JSON, nil when it is not.
        public var json: JSONValue? { try? JSONValue.parse(body) }
    }

    /// POSTs `json` to `path`; any status is returned; transport failures (retryable) and
    /// replies past `maxReplyBytes` (not retryable) throw.
    public func post(_ path: String, json: JSONValue) async throws -> Reply {
        let headers = self.headers + [("Content-Type", "application/json"), ("Accept", "application/json")]
        let (body, status) = try await transport.post(
            endpoint(path), headers: headers, body: Data(json.jsonText(sortedKeys: false).utf8),
            limit: maxReplyBytes, timeout: timeout)
        return Reply(status: status, body: body)
    }

    /// GETs `path`, as `post`.
    public func get(_ path: String) async throws -> Reply {
        let (body, status) = try await transport.get(
            endpoint(path), headers: headers + [("Accept", "application/json")], limit: maxReplyBytes,
            timeout: timeout)
        return Reply(status: status, body: body)
    }

    /// The authorization header, when there is a key.
    private var headers: [(String, String)] { apiKey.map { [("Authorization", "Bearer \($0)")] } ?? [] }

    /// A chat completion's useful parts.
    public struct ChatReply: Sendable, Equatable {
        public var content: String
        public var finishReason: String?
        public var completionTokens: Int?
        /// The prompt's token count, when the server reports usage.
        public var promptTokens: Int?
    }

    /// The JSON body of a chat completion request: model, messages, temperature, `max_tokens`,
    /// then the `extra` members as given.
    public static func chatBody(
        model: String, messages: [ChatMessage], temperature: Double, maxTokens: Int,
        extra: [(String, JSONValue)] = []
    ) -> JSONValue {
        let list = messages.map {
            JSONValue.object(
                JSONObject(members: [("role", .string($0.role.rawValue)), ("content", .string($0.content))]))
        }
        let members: [(key: String, value: JSONValue)] = [
            ("model", .string(model)), ("messages", .array(list)), ("temperature", .double(temperature)),
            ("max_tokens", .int(maxTokens))
        ]
        return .object(JSONObject(members: members + extra.map { (key: $0.0, value: $0.1) }))
    }

    /// POSTs a chat completion; non-2xx statuses throw `OpenAIClientError` (429 and 5xx retryable).
    ///
    /// `extra` members (e.g. `top_k`, `seed`) are added to the body as given.
    public func chat(
        model: String, messages: [ChatMessage], temperature: Double, maxTokens: Int,
        extra: [(String, JSONValue)] = []
    ) async throws -> ChatReply {
        let body = Self.chatBody(
            model: model, messages: messages, temperature: temperature, maxTokens: maxTokens, extra: extra)
        let reply = try await post("chat/completions", json: body)
        try check(reply, path: "chat/completions")
        guard let json = reply.json, let choice = json["choices"]?.array?.first,
            let content = choice["message"]?["content"]?.string
        else {
            throw OpenAIClientError(
                "\(endpoint("chat/completions").absoluteString): not a chat completion: "
                    + String(decoding: reply.body.prefix(200), as: UTF8.self), status: reply.status, retryable: false)
        }
        return ChatReply(
            content: content, finishReason: choice["finish_reason"]?.string,
            completionTokens: json["usage"]?["completion_tokens"]?.int,
            promptTokens: json["usage"]?["prompt_tokens"]?.int)
    }

    /// Throws for a status outside 2xx, with the start of the body.
    public func check(_ reply: Reply, path: String) throws {
        guard !(200..<300).contains(reply.status) else { return }
        let snippet = ErrorText.clip(String(decoding: reply.body.prefix(400), as: UTF8.self), limit: 200)
        throw OpenAIClientError(
            "HTTP \(reply.status) from \(endpoint(path).absoluteString): \(snippet)",
            status: reply.status, retryable: reply.status == 429 || reply.status >= 500)
    }
}

/// Why a call to an OpenAI-compatible server failed; `retryable` failures (timeouts, connection
/// errors, HTTP 429 and 5xx) are worth another try after a pause.
public struct OpenAIClientError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What happened (never the API key).
    public var message: String
    /// The HTTP status, nil for transport failures.
    public var status: Int?
    /// Whether trying again may succeed.
    public var retryable: Bool

    /// Creates an error.
    public init(_ message: String, status: Int? = nil, retryable: Bool) {
        self.message = message
        self.status = status
        self.retryable = retryable
    }

    public var description: String { message }
}
