import Foundation
import LEMCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A client of an OpenAI-compatible HTTP API (vLLM, SGLang, llama.cpp's server, mlx-lm, Ollama,
/// `lem serve`, hosted APIs): the one way out for judges and remote benchmark engines.
///
/// `baseURL` is the API root (`http://host:8080/v1`). The API key is only ever placed in the
/// `Authorization` header — never in errors, logs or the store. Every call has a hard deadline.
public struct OpenAIClient: Sendable {
    /// The API root.
    public let baseURL: URL
    /// Seconds before a call is abandoned as timed out.
    public let timeout: Double
    /// The bearer token sent, if any (only ever in the `Authorization` header).
    let apiKey: String?

    /// A client sending `apiKey` (if any) as a bearer token.
    public init(baseURL: URL, apiKey: String? = nil, timeout: Double = 60) {
        self.baseURL = baseURL
        self.timeout = timeout
        self.apiKey = apiKey.flatMap { $0.isEmpty ? nil : $0 }
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

    /// POSTs `json` to `path`; any status is returned, transport failures throw (retryable).
    public func post(_ path: String, json: JSONValue) async throws -> Reply {
        var request = URLRequest(url: endpoint(path), timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(json.jsonText(sortedKeys: false).utf8)
        return try await send(request)
    }

    /// GETs `path`.
    public func get(_ path: String) async throws -> Reply {
        var request = URLRequest(url: endpoint(path), timeoutInterval: timeout)
        request.httpMethod = "GET"
        return try await send(request)
    }

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
        let snippet = String(decoding: reply.body.prefix(200), as: UTF8.self)
        throw OpenAIClientError(
            "HTTP \(reply.status) from \(endpoint(path).absoluteString): \(snippet)",
            status: reply.status, retryable: reply.status == 429 || reply.status >= 500)
    }

    /// The deadline timers' queue. A queue of its own (unlike `DispatchQueue.global()`) gets a
    /// thread even while long `concurrentPerform` work — the trainer's, in the same process —
    /// holds every thread of the global pool, so a timeout fires on time.
    private static let deadlines = DispatchQueue(label: "lem.http.deadlines")

    /// Sends a request with a hard deadline: the task is cancelled when `timeout` passes, and
    /// when the calling task is cancelled.
    private func send(_ request: URLRequest) async throws -> Reply {
        var request = request
        if let apiKey { request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization") }
        let box = TaskBox()
        let deadline = timeout
        let url = request.url?.absoluteString ?? ""
        let sending = request
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let task = URLSession.shared.dataTask(with: sending) { data, response, error in
                    guard box.finish() else { return }
                    if let error {
                        let ns = error as NSError
                        if box.cancelled {
                            continuation.resume(throwing: CancellationError())
                        } else if ns.code == NSURLErrorTimedOut || box.timedOut {
                            continuation.resume(
                                throwing: OpenAIClientError("timed out after \(deadline) s: \(url)", retryable: true))
                        } else {
                            continuation.resume(
                                throwing: OpenAIClientError("\(url): \(ns.localizedDescription)", retryable: true))
                        }
                        return
                    }
                    continuation.resume(
                        returning: Reply(
                            status: (response as? HTTPURLResponse)?.statusCode ?? 0, body: data ?? Data()))
                }
                box.task = task
                task.resume()
                Self.deadlines.asyncAfter(deadline: .now() + deadline) { box.expire(timedOut: true) }
            }
        } onCancel: {
            box.expire(timedOut: false)
        }
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

/// Shares one data task between its completion handler, the deadline timer and cancellation.
private final class TaskBox: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false
    private var expiredByTimer = false
    private var expiredByCaller = false
    /// The deadline passed before the call finished.
    var timedOut: Bool { lock.withLock { expiredByTimer } }
    /// The caller's task was cancelled before the call finished.
    var cancelled: Bool { lock.withLock { expiredByCaller } }
    var task: URLSessionDataTask? {
        get { lock.withLock { storedTask } }
        set {
            lock.lock()
            storedTask = newValue
            let expired = expiredByTimer || expiredByCaller
            lock.unlock()
            if expired { newValue?.cancel() }
        }
    }
    private var storedTask: URLSessionDataTask?

    /// Marks the call finished; false when it already was.
    func finish() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if done { return false }
        done = true
        return true
    }

    /// Cancels the task if it has not finished; its completion then reports a timeout (or the
    /// caller's cancellation).
    func expire(timedOut: Bool) {
        lock.lock()
        let pending = !done
        if pending {
            if timedOut { expiredByTimer = true } else { expiredByCaller = true }
        }
        let t = storedTask
        lock.unlock()
        if pending { t?.cancel() }
    }
}
