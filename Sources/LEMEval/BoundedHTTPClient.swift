import Foundation
import LEMFormats

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// POSTs a request and reads the reply's body up to a byte limit under a hard deadline.
///
/// A judge endpoint is a server we do not control, so what it sends is bounded: a reply whose
/// declared length or received bytes pass `limit` ends the exchange with an error. `http://`
/// endpoints (local servers) go through `SocketHTTPExchange`, which stops reading at the limit,
/// so memory is bounded too. `https://` ones go through URLSession with a delegate that drops the
/// body past the limit and cancels the task; on Linux that cancel can lag a fast sender, so there
/// only what is kept is bounded, not what URLSession buffers meanwhile.
final class BoundedHTTPClient: Sendable {
    private let session: URLSession
    private let exchanges: ExchangeTable
    private let socketsForHTTP: Bool

    /// The deadline timers' queue. A queue of its own (unlike `DispatchQueue.global()`) gets a
    /// thread even while long `concurrentPerform` work — the trainer's, in the same process —
    /// holds every thread of the global pool, so a timeout fires on time.
    private static let deadlines = DispatchQueue(label: "lem.judge.deadlines")

    /// Creates a client; `socketsForHTTP: false` sends `http://` through URLSession too (tests).
    init(socketsForHTTP: Bool = true) {
        self.socketsForHTTP = socketsForHTTP
        exchanges = ExchangeTable()
        session = URLSession(configuration: .ephemeral, delegate: exchanges, delegateQueue: nil)
    }

    deinit { session.finishTasksAndInvalidate() }

    /// POSTs `body` with `headers`; returns the reply body and status. Throws `JudgeError` when
    /// the reply is larger than `limit` bytes (not retryable), when `timeout` seconds pass, or when
    /// the connection fails (both retryable).
    func post(_ url: URL, headers: [(String, String)], body: Data, limit: Int, timeout: Double) async throws -> (
        Data, Int
    ) {
        try await exchange("POST", url, headers: headers, body: body, limit: limit, timeout: timeout)
    }

    /// GETs `url` with `headers`, bounded as `post` is.
    func get(_ url: URL, headers: [(String, String)], limit: Int, timeout: Double) async throws -> (Data, Int) {
        try await exchange("GET", url, headers: headers, body: nil, limit: limit, timeout: timeout)
    }

    private func exchange(
        _ method: String, _ url: URL, headers: [(String, String)], body: Data?, limit: Int, timeout: Double
    ) async throws -> (Data, Int) {
        if socketsForHTTP, url.scheme?.lowercased() == "http" {
            return try await SocketHTTPExchange.call(
                method, url: url, headers: headers, body: body, limit: limit, timeout: timeout)
        }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = body
        return try await send(request, limit: limit, deadline: timeout)
    }

    private func send(_ request: URLRequest, limit: Int, deadline: Double) async throws -> (Data, Int) {
        let url = request.url?.absoluteString ?? "?"
        let task = session.dataTask(with: request)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                exchanges.begin(
                    Exchange(
                        id: task.taskIdentifier, url: url, limit: limit, deadline: deadline,
                        continuation: continuation))
                // Cancelled before the exchange was registered: end it at once.
                if Task.isCancelled, exchanges.finish(task.taskIdentifier, .failure(CancellationError())) { return }
                task.resume()
                Self.deadlines.asyncAfter(deadline: .now() + deadline) { [exchanges] in
                    if exchanges.finish(task.taskIdentifier, .failure(Exchange.timedOut(url, deadline))) {
                        task.cancel()
                    }
                }
            }
        } onCancel: { [exchanges] in
            if exchanges.finish(task.taskIdentifier, .failure(CancellationError())) { task.cancel() }
        }
    }
}

/// One request in flight: what it may receive and who waits for it.
private final class Exchange: @unchecked Sendable {
    let id: Int
    let url: String
    let limit: Int
    let deadline: Double
    let continuation: CheckedContinuation<(Data, Int), any Error>
    var body = Data()
    var status = 0

    init(
        id: Int, url: String, limit: Int, deadline: Double,
        continuation: CheckedContinuation<(Data, Int), any Error>
    ) {
        self.id = id
        self.url = url
        self.limit = limit
        self.deadline = deadline
        self.continuation = continuation
    }

    /// The error for a request that outlived its deadline.
    static func timedOut(_ url: String, _ deadline: Double) -> JudgeError {
        JudgeError("timed out after \(deadline) s: \(url)", retryable: true)
    }

    /// The error for a reply past the limit.
    func tooLarge(_ what: String) -> JudgeError {
        JudgeError(
            "reply from \(ErrorText.clip(url)) \(what), over the \(SocketHTTPExchange.describe(limit)) "
                + "limit; stopped reading (is the URL a chat-completions endpoint?)", retryable: false)
    }
}

/// The session's delegate: routes each task's callbacks to its exchange; the first of reply,
/// failure, oversize or deadline to arrive resumes the caller, the rest are ignored.
private final class ExchangeTable: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private let lock = NSLock()
    private var open: [Int: Exchange] = [:]

    func begin(_ exchange: Exchange) {
        lock.withLock { open[exchange.id] = exchange }
    }

    /// Ends task `id` with `result`; false when it had already ended.
    @discardableResult
    func finish(_ id: Int, _ result: Result<(Data, Int), any Error>) -> Bool {
        guard let exchange = lock.withLock({ open.removeValue(forKey: id) }) else { return false }
        exchange.continuation.resume(with: result)
        return true
    }

    private func exchange(_ id: Int) -> Exchange? { lock.withLock { open[id] } }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void
    ) {
        guard let exchange = exchange(dataTask.taskIdentifier) else { return completionHandler(.cancel) }
        exchange.status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let declared = response.expectedContentLength
        if declared > Int64(exchange.limit) {
            finish(exchange.id, .failure(exchange.tooLarge("declares \(declared) bytes")))
            return completionHandler(.cancel)
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard let exchange = exchange(dataTask.taskIdentifier) else { return }
        if exchange.body.count + data.count > exchange.limit {
            if finish(exchange.id, .failure(exchange.tooLarge("is larger"))) { dataTask.cancel() }
            return
        }
        exchange.body.append(data)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        guard let exchange = exchange(task.taskIdentifier) else { return }
        if let error {
            let ns = error as NSError
            let failure =
                ns.code == NSURLErrorTimedOut
                ? Exchange.timedOut(exchange.url, exchange.deadline)
                : JudgeError("\(exchange.url): \(ns.localizedDescription)", retryable: true)
            finish(exchange.id, .failure(failure))
        } else {
            finish(exchange.id, .success((exchange.body, exchange.status)))
        }
    }
}
