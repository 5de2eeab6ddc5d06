import Foundation
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
    private let apiKey: String?

    public var identity: String { "\(model)@\(endpoint.host ?? endpoint.absoluteString)" }

    /// Creates a backend sending `apiKey` (if any) as a bearer token.
    public init(baseURL: URL, model: String, apiKey: String? = nil, timeout: Double = 60,
                temperature: Double = 0, maxTokens: Int = 512) {
        endpoint = baseURL.path.hasSuffix("/chat/completions") ? baseURL : baseURL.appendingPathComponent("chat/completions")
        self.model = model
        self.timeout = timeout
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.apiKey = apiKey.flatMap { $0.isEmpty ? nil : $0 }
    }

    public func complete(prompt: String) async throws -> String {
        var request = URLRequest(url: endpoint, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let apiKey { request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization") }
        let body: [String: Any] = [
            "model": model, "temperature": temperature, "max_tokens": maxTokens,
            "messages": [["role": "user", "content": prompt]],
        ]
        request.httpBody = try JSONSerialization.data(withJSONObject: body)
        let (data, status) = try await send(request)
        guard (200..<300).contains(status) else {
            let snippet = String(decoding: data.prefix(200), as: UTF8.self)
            throw JudgeError("HTTP \(status) from \(endpoint.absoluteString): \(snippet)",
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

    /// The deadline timers' queue. A queue of its own (unlike `DispatchQueue.global()`) gets a
    /// thread even while long `concurrentPerform` work — the trainer's, in the same process —
    /// holds every thread of the global pool, so a timeout fires on time.
    private static let deadlines = DispatchQueue(label: "lem.judge.deadlines")

    /// Sends a request with a hard deadline: the task is cancelled when `timeout` passes.
    private func send(_ request: URLRequest) async throws -> (Data, Int) {
        let box = TaskBox()
        let deadline = timeout
        let url = endpoint.absoluteString
        return try await withCheckedThrowingContinuation { continuation in
            let task = URLSession.shared.dataTask(with: request) { data, response, error in
                guard box.finish() else { return }
                if let error {
                    let ns = error as NSError
                    if ns.code == NSURLErrorTimedOut || box.timedOut {
                        continuation.resume(throwing: JudgeError("timed out after \(deadline) s: \(url)", retryable: true))
                    } else {
                        continuation.resume(throwing: JudgeError("\(url): \(ns.localizedDescription)", retryable: true))
                    }
                    return
                }
                continuation.resume(returning: (data ?? Data(), (response as? HTTPURLResponse)?.statusCode ?? 0))
            }
            box.task = task
            task.resume()
            Self.deadlines.asyncAfter(deadline: .now() + deadline) { box.expire() }
        }
    }
}

/// Shares one data task between its completion handler and the deadline timer.
private final class TaskBox: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false
    private(set) var timedOut = false
    var task: URLSessionDataTask?

    /// Marks the call finished; false when it already was.
    func finish() -> Bool {
        lock.lock(); defer { lock.unlock() }
        if done { return false }
        done = true
        return true
    }

    /// Cancels the task if it has not finished; its completion then reports a timeout.
    func expire() {
        lock.lock()
        let pending = !done
        if pending { timedOut = true }
        let t = task
        lock.unlock()
        if pending { t?.cancel() }
    }
}
