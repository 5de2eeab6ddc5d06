import Foundation
import LEMCore
import LEMFormats

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

extension OpenAIClient {
    /// The most bytes a streamed reply may send in all (a server that never stops is cut off).
    public static let maxStreamBytes = 16 << 20

    /// A streamed chat completion (`stream: true`, usage requested): `onText` receives each
    /// piece of the answer as the server sends it; returns the whole answer with the finish
    /// reason and token counts the server reported.
    ///
    /// `timeout` bounds the wait for each next byte, not the whole answer. Task cancellation
    /// closes the connection (a server that frees the slot on disconnect stops generating) and
    /// throws `CancellationError`. A non-2xx status, a stream error event or a reply that is not
    /// an event stream of chat-completion chunks throws `OpenAIClientError`.
    public func streamChat(
        model: String, messages: [ChatMessage], temperature: Double, maxTokens: Int,
        extra: [(String, JSONValue)] = [], onText: @escaping @Sendable (String) -> Void
    ) async throws -> ChatReply {
        let include = JSONValue.object(JSONObject(members: [("include_usage", .bool(true))]))
        let body = Self.chatBody(
            model: model, messages: messages, temperature: temperature, maxTokens: maxTokens,
            extra: extra + [("stream", .bool(true)), ("stream_options", include)])
        var request = URLRequest(url: endpoint("chat/completions"), timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("text/event-stream", forHTTPHeaderField: "Accept")
        if let apiKey { request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization") }
        request.httpBody = Data(body.jsonText(sortedKeys: false).utf8)
        let reader = ChatStreamReader(
            url: endpoint("chat/completions").absoluteString, idleTimeout: timeout, onText: onText)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                reader.start(request, continuation: continuation)
            }
        } onCancel: {
            reader.stop(.cancelled)
        }
    }
}

/// One streamed chat completion: the URLSession delegate that parses the event stream as it
/// arrives, watches for silence, and resumes the caller exactly once.
private final class ChatStreamReader: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    enum Stop { case cancelled, timedOut }

    private let url: String
    private let idleTimeout: Double
    private let onText: @Sendable (String) -> Void
    private let lock = NSLock()
    // Guarded by `lock`.
    private var continuation: CheckedContinuation<OpenAIClient.ChatReply, any Error>?
    private var session: URLSession?
    private var task: URLSessionDataTask?
    private var stopped: Stop?
    private var lastActivity = DispatchTime.now()
    // Touched only on the session's delegate queue.
    private var status = 0
    private var received = 0
    private var errorBody = Data()
    private var events = ServerSentEvents()
    private var reply = OpenAIClient.ChatReply(content: "")
    private var sawChunk = false
    private var sawDone = false

    /// The watchdog's queue, its own so that it fires while the global pool is busy.
    private static let watchdog = DispatchQueue(label: "lem.http.stream-watchdog")

    init(url: String, idleTimeout: Double, onText: @escaping @Sendable (String) -> Void) {
        self.url = url
        self.idleTimeout = max(0.001, idleTimeout)
        self.onText = onText
    }

    func start(_ request: URLRequest, continuation: CheckedContinuation<OpenAIClient.ChatReply, any Error>) {
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let session = URLSession(configuration: .ephemeral, delegate: self, delegateQueue: queue)
        let task = session.dataTask(with: request)
        let alreadyStopped = lock.withLock {
            self.continuation = continuation
            self.session = session
            self.task = task
            lastActivity = .now()
            return stopped != nil
        }
        if alreadyStopped {
            finish(.failure(CancellationError()))
            return
        }
        task.resume()
        watch()
    }

    /// Ends the exchange from outside: the caller's cancellation or the watchdog.
    func stop(_ reason: Stop) {
        let t = lock.withLock { () -> URLSessionDataTask? in
            guard stopped == nil, continuation != nil || task == nil else { return nil }
            stopped = reason
            return task
        }
        t?.cancel()
    }

    private func watch() {
        let due = lock.withLock { lastActivity }.uptimeNanoseconds &+ UInt64(idleTimeout * 1e9)
        Self.watchdog.asyncAfter(deadline: DispatchTime(uptimeNanoseconds: due)) { [weak self] in
            guard let self else { return }
            let (open, last) = lock.withLock { (continuation != nil, lastActivity) }
            guard open else { return }
            if DispatchTime.now().uptimeNanoseconds &- last.uptimeNanoseconds >= UInt64(idleTimeout * 1e9) {
                stop(.timedOut)
            } else {
                watch()
            }
        }
    }

    private func finish(_ result: Result<OpenAIClient.ChatReply, any Error>) {
        let (c, s) = lock.withLock { () -> (CheckedContinuation<OpenAIClient.ChatReply, any Error>?, URLSession?) in
            defer {
                continuation = nil
                session = nil
            }
            return (continuation, session)
        }
        s?.invalidateAndCancel()
        c?.resume(with: result)
    }

    private func fail(_ message: String, retryable: Bool = false) {
        lock.withLock { task }?.cancel()
        finish(.failure(OpenAIClientError("\(url): \(message)", status: status, retryable: retryable)))
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void
    ) {
        status = (response as? HTTPURLResponse)?.statusCode ?? 0
        lock.withLock { lastActivity = .now() }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        lock.withLock { lastActivity = .now() }
        received += data.count
        guard received <= OpenAIClient.maxStreamBytes else {
            return fail("the streamed reply passed \(OpenAIClient.maxStreamBytes >> 20) MiB; stopped reading")
        }
        guard (200..<300).contains(status) else {
            if errorBody.count < 4096 { errorBody.append(data.prefix(4096 - errorBody.count)) }
            return
        }
        do {
            for payload in try events.feed(data) { try take(payload) }
        } catch let error as OpenAIClientError {
            lock.withLock { task }?.cancel()
            finish(.failure(error))
        } catch {
            fail("\(error)")
        }
    }

    /// One event's payload: a chunk, the usage chunk, an error object or `[DONE]`.
    private func take(_ payload: String) throws {
        if payload.trimmingCharacters(in: .whitespaces) == "[DONE]" {
            sawDone = true
            return
        }
        guard let json = try? JSONValue.parse(Data(payload.utf8)) else {
            throw OpenAIClientError(
                "\(url): not a JSON event: \(ErrorText.clip(payload, limit: 120))", status: status, retryable: false)
        }
        if let error = json["error"] {
            let message = error["message"]?.string ?? error.string ?? "an error event"
            throw OpenAIClientError("\(url): \(ErrorText.clip(message, limit: 300))", status: status, retryable: false)
        }
        sawChunk = true
        if let usage = json["usage"], usage.object != nil {
            reply.promptTokens = usage["prompt_tokens"]?.int ?? reply.promptTokens
            reply.completionTokens = usage["completion_tokens"]?.int ?? reply.completionTokens
        }
        guard let choice = json["choices"]?.array?.first else { return }
        if let text = choice["delta"]?["content"]?.string, !text.isEmpty {
            reply.content += text
            onText(text)
        }
        if let reason = choice["finish_reason"]?.string { reply.finishReason = reason }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        let reason = lock.withLock { stopped }
        switch reason {
        case .cancelled: return finish(.failure(CancellationError()))
        case .timedOut:
            return finish(
                .failure(
                    OpenAIClientError(
                        "\(url): no data for \(idleTimeout) s; gave up", status: status, retryable: true)))
        case nil: break
        }
        if let error {
            return finish(
                .failure(OpenAIClientError("\(url): \((error as NSError).localizedDescription)", retryable: true)))
        }
        guard (200..<300).contains(status) else {
            let snippet = String(decoding: errorBody.prefix(200), as: UTF8.self)
            return finish(
                .failure(
                    OpenAIClientError(
                        "HTTP \(status) from \(url): \(snippet)", status: status,
                        retryable: status == 429 || status >= 500)))
        }
        do {
            if let last = events.finish() { try take(last) }
        } catch {
            return finish(.failure(error))
        }
        guard sawChunk || sawDone else {
            return finish(
                .failure(
                    OpenAIClientError(
                        "\(url): the reply is not an event stream of chat-completion chunks", status: status,
                        retryable: false)))
        }
        finish(.success(reply))
    }
}
