import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A minimal OpenAI-compatible HTTP responder on 127.0.0.1, written on POSIX sockets, for
/// testing the judge path end to end without any outside service.
///
/// Each connection carries one request (`Connection: close`); the handler decides the reply
/// from the request's index, headers and body.
final class LoopbackJudgeServer: @unchecked Sendable {
    /// What the server does with one request.
    enum Reply {
        /// 200 with a chat-completions body whose message content is `text`.
        case content(String)
        /// The given status and raw body.
        case status(Int, String)
        /// Waits, then replies (or just closes the connection when `then` is nil).
        case delay(Double, then: String?)
        /// 200 with `bytes` bytes of filler written as the client reads them, with or without a
        /// Content-Length header (without, the body ends when the connection closes).
        case stream(bytes: Int, declareLength: Bool)
        /// 200 with a chat-completions body whose content is `text`, sent in chunked encoding
        /// in pieces of `piece` bytes; the connection then stays open until the server stops.
        case chunked(String, piece: Int)
    }

    /// One request as received.
    struct Request {
        var path: String
        var headers: [String: String]
        var body: String
    }

    let port: UInt16
    private let fd: Int32
    private let handler: @Sendable (Int, Request) -> Reply
    private let lock = NSLock()
    private var received: [Request] = []
    private var inFlight = 0
    private var peak = 0
    private var stopped = false
    private var sentBodyBytes = 0

    /// Requests received so far.
    var requests: [Request] {
        lock.lock()
        defer { lock.unlock() }
        return received
    }
    /// The largest number of requests handled at the same time.
    var peakConcurrency: Int {
        lock.lock()
        defer { lock.unlock() }
        return peak
    }
    /// Body bytes of `.stream` replies the clients accepted.
    var streamedBytes: Int {
        lock.lock()
        defer { lock.unlock() }
        return sentBodyBytes
    }

    init(handler: @escaping @Sendable (Int, Request) -> Reply) throws {
        self.handler = handler
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        self.fd = fd
        port = UInt16(bigEndian: addr.sin_port)
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// The API root to give the backend.
    var baseURL: URL { URL(string: "http://127.0.0.1:\(port)/v1")! }

    /// Stops accepting connections. Safe to call more than once (the tests' `defer` and `deinit`
    /// both do): only the first call shuts the socket down, and the socket is closed by the
    /// accept loop once it has left `accept`, so its descriptor number cannot be reused by
    /// another test's file or server while this one might still touch it.
    func stop() {
        lock.lock()
        let first = !stopped
        stopped = true
        lock.unlock()
        if first { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    private func acceptLoop() {
        defer { close(fd) }
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 { return }
            let t = Thread { [self] in serve(client) }
            t.start()
        }
    }

    private func serve(_ client: Int32) {
        defer { close(client) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        var headerEnd: Range<Data.Index>?
        while headerEnd == nil {
            let n = recv(client, &buffer, buffer.count, 0)
            if n <= 0 { return }
            data.append(contentsOf: buffer[0..<n])
            headerEnd = data.range(of: Data("\r\n\r\n".utf8))
        }
        let head = String(decoding: data[..<headerEnd!.lowerBound], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        var headers: [String: String] = [:]
        for l in lines {
            guard let colon = l.firstIndex(of: ":") else { continue }
            headers[l[..<colon].lowercased()] = l[l.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        while data.count - headerEnd!.upperBound < length {
            let n = recv(client, &buffer, buffer.count, 0)
            if n <= 0 { return }
            data.append(contentsOf: buffer[0..<n])
        }
        let body = String(decoding: data[headerEnd!.upperBound...], as: UTF8.self)
        let request = Request(path: requestLine.count > 1 ? String(requestLine[1]) : "/", headers: headers, body: body)
        lock.lock()
        let index = received.count
        received.append(request)
        inFlight += 1
        peak = max(peak, inFlight)
        lock.unlock()
        defer {
            lock.lock()
            inFlight -= 1
            lock.unlock()
        }
        switch handler(index, request) {
        case .content(let text):
            let json = try! JSONSerialization.data(withJSONObject: [
                "choices": [["index": 0, "message": ["role": "assistant", "content": text], "finish_reason": "stop"]]
            ])
            write(client, 200, String(decoding: json, as: UTF8.self))
        case .status(let code, let body):
            write(client, code, body)
        case .delay(let seconds, let then):
            // Sleeps in short steps so that `stop()` ends a long delay (and its thread) at once.
            let end = Date().addingTimeInterval(seconds)
            while Date() < end, !lock.withLock({ stopped }) { Thread.sleep(forTimeInterval: 0.02) }
            if let then, !lock.withLock({ stopped }) { write(client, 200, then) }
        case .stream(let bytes, let declareLength):
            stream(client, bytes: bytes, declareLength: declareLength)
        case .chunked(let text, let piece):
            let json = try! JSONSerialization.data(withJSONObject: ["choices": [["message": ["content": text]]]])
            var wire = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            var rest = Array(json)[...]
            while !rest.isEmpty {
                let part = rest.prefix(piece)
                rest = rest.dropFirst(piece)
                wire += String(part.count, radix: 16) + ";ext=1\r\n" + String(decoding: part, as: UTF8.self) + "\r\n"
            }
            guard sendAll(client, Array((wire + "0\r\n\r\n").utf8)) else { return }
            while !lock.withLock({ stopped }) { Thread.sleep(forTimeInterval: 0.02) }
        }
    }

    private func stream(_ client: Int32, bytes: Int, declareLength: Bool) {
        let head =
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + (declareLength ? "Content-Length: \(bytes)\r\n" : "") + "Connection: close\r\n\r\n"
        guard sendAll(client, Array(head.utf8)) else { return }
        let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 64 << 10)
        var left = bytes
        while left > 0 {
            let part = Array(chunk.prefix(left))
            guard sendAll(client, part) else { return }
            lock.lock()
            sentBodyBytes += part.count
            lock.unlock()
            left -= part.count
        }
    }

    /// Sends every byte; false when the peer stopped reading (closed the connection).
    private func sendAll(_ client: Int32, _ all: [UInt8]) -> Bool {
        var sent = 0
        while sent < all.count {
            let n = all[sent...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    private func write(_ client: Int32, _ status: Int, _ body: String) {
        let bytes = Array(body.utf8)
        let text =
            "HTTP/1.1 \(status) X\r\nContent-Type: application/json\r\nContent-Length: \(bytes.count)\r\n"
            + "Connection: close\r\n\r\n"
        _ = sendAll(client, Array(text.utf8) + bytes)
    }

    deinit { stop() }
}
