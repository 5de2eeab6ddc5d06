import Foundation
import LEMFormats

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One HTTP/1.1 request to an `http://` endpoint over a plain TCP socket, its reply read into a
/// buffer that may not pass a byte limit, every wait bounded by a deadline.
///
/// Why not URLSession for these: on Linux it hands each received chunk to the delegate
/// asynchronously and keeps reading a fast sender long after `cancel()`, so a hostile local
/// server can still fill memory. Here the reader stops the moment the limit is passed, so at
/// most `limit` plus one 64 KiB read is ever held. One request per connection (`Connection:
/// close`); the body is framed by Content-Length, chunked encoding or the connection's end.
final class SocketHTTPExchange: @unchecked Sendable {
    private let url: URL
    private let limit: Int
    private let timeout: Double
    private let deadline: UInt64  // DispatchTime uptime, nanoseconds
    private let lock = NSLock()
    private var socketFD: Int32 = -1
    private var cancelled = false

    private init(url: URL, limit: Int, timeout: Double) {
        self.url = url
        self.limit = limit
        self.timeout = timeout
        deadline = DispatchTime.now().uptimeNanoseconds &+ UInt64(max(0, timeout) * 1e9)
    }

    /// Sends `method` (`POST` with `body`, or `GET`) to `url` (http) with `headers`; returns the
    /// reply body and status. Runs on a thread of its own (blocking reads never hold the
    /// cooperative pool); task cancellation shuts the socket down.
    static func call(
        _ method: String, url: URL, headers: [(String, String)], body: Data?, limit: Int,
        timeout: Double
    ) async throws -> (Data, Int) {
        let exchange = SocketHTTPExchange(url: url, limit: limit, timeout: timeout)
        let request = try exchange.requestBytes(method, headers: headers, body: body)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                Thread { continuation.resume(with: Result { try exchange.perform(request) }) }.start()
            }
        } onCancel: {
            exchange.cancel()
        }
    }

    private func cancel() {
        lock.withLock {
            cancelled = true
            if socketFD >= 0 { shutdown(socketFD, Int32(SHUT_RDWR)) }
        }
    }

    // MARK: Errors

    private var address: String { url.absoluteString }

    private func failure(_ what: String) -> JudgeError {
        JudgeError("\(address): \(what)", retryable: true)
    }

    private func tooLarge(_ what: String) -> JudgeError {
        JudgeError(
            "reply from \(ErrorText.clip(address)) \(what), over the \(Self.describe(limit)) limit; "
                + "stopped reading (is the URL a chat-completions endpoint?)", retryable: false)
    }

    static func describe(_ bytes: Int) -> String {
        bytes >= 1 << 20 && bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : "\(bytes) bytes"
    }

    // MARK: Request

    private func requestBytes(_ method: String, headers: [(String, String)], body: Data?) throws -> [UInt8] {
        guard let host = url.host, !host.isEmpty else { throw JudgeError("\(address): no host", retryable: false) }
        let components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        var target = components?.percentEncodedPath ?? "/"
        if target.isEmpty { target = "/" }
        if let query = components?.percentEncodedQuery { target += "?" + query }
        let hostField = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(hostField)\(url.port.map { ":\($0)" } ?? "")\r\n"
        for (name, value) in headers {
            // A line break in a value would start a header of its own.
            guard !value.contains(where: { $0 == "\r" || $0 == "\n" }) else {
                throw JudgeError("the \(name) header holds a line break; not sent", retryable: false)
            }
            head += "\(name): \(value)\r\n"
        }
        if let body { head += "Content-Length: \(body.count)\r\n" }
        head += "Connection: close\r\n\r\n"
        return Array(head.utf8) + Array(body ?? Data())
    }

    // MARK: Exchange

    private func perform(_ request: [UInt8]) throws -> (Data, Int) {
        let fd = try openConnection()
        defer {
            lock.withLock { socketFD = -1 }
            close(fd)
        }
        try sendAll(fd, request)
        return try readReply(fd)
    }

    private func checkCancelled() throws {
        if lock.withLock({ cancelled }) { throw CancellationError() }
    }

    /// Waits until `fd` is ready for `events`, or throws at the deadline.
    private func wait(_ fd: Int32, _ events: Int16) throws {
        while true {
            try checkCancelled()
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else { throw JudgeError("timed out after \(timeout) s: \(address)", retryable: true) }
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let ms = Int32(min(UInt64(Int32.max), (deadline - now) / 1_000_000 + 1))
            let ready = poll(&entry, 1, ms)
            if ready > 0 { return }
            if ready < 0, errno != EINTR { throw failure(String(cString: strerror(errno))) }
        }
    }

    private func openConnection() throws -> Int32 {
        var host = url.host ?? ""
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
            hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, String(url.port ?? 80), &hints, &list)
        guard resolved == 0 else {
            throw failure("cannot resolve the host (\(String(cString: gai_strerror(resolved))))")
        }
        defer { freeaddrinfo(list) }
        var lastError = ECONNREFUSED
        var candidate = list
        while let info = candidate?.pointee {
            candidate = info.ai_next
            let fd = socket(info.ai_family, info.ai_socktype, info.ai_protocol)
            if fd < 0 {
                lastError = errno
                continue
            }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK)
            lock.withLock { socketFD = fd }
            if connect(fd, info.ai_addr, info.ai_addrlen) == 0 { return fd }
            if errno == EINPROGRESS {
                do { try wait(fd, Int16(POLLOUT)) } catch {
                    lock.withLock { socketFD = -1 }
                    close(fd)
                    throw error
                }
                var code: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length)
                if code == 0 { return fd }
                lastError = code
            } else {
                lastError = errno
            }
            lock.withLock { socketFD = -1 }
            close(fd)
        }
        try checkCancelled()
        throw failure(String(cString: strerror(lastError)))
    }

    private func sendAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                sent += n
                continue
            }
            if n < 0, errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
                try wait(fd, Int16(POLLOUT))
                continue
            }
            try checkCancelled()
            throw failure("sending the request: \(String(cString: strerror(errno)))")
        }
    }

    /// Reads up to 64 KiB into `buffer`; 0 at the end of the stream.
    private func receive(_ fd: Int32, _ buffer: inout [UInt8]) throws -> Int {
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n >= 0 { return n }
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
                try wait(fd, Int16(POLLIN))
                continue
            }
            try checkCancelled()
            throw failure("reading the reply: \(String(cString: strerror(errno)))")
        }
    }

    /// The most bytes of status line and headers read.
    static let maxHeaderBytes = 64 << 10

    private func readReply(_ fd: Int32) throws -> (Data, Int) {
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        var received: [UInt8] = []
        var headerEnd: Int?
        while headerEnd == nil {
            let n = try receive(fd, &chunk)
            guard n > 0 else { throw failure("the connection closed before a reply") }
            let searchFrom = max(0, received.count - 3)
            received += chunk[..<n]
            headerEnd = Self.find([13, 10, 13, 10], in: received, from: searchFrom).map { $0 + 4 }
            if headerEnd == nil, received.count > Self.maxHeaderBytes { throw tooLarge("has headers longer") }
        }
        let head = String(decoding: received[..<(headerEnd! - 4)], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/"), let status = Int(statusLine[1]) else {
            throw failure("not an HTTP reply: \(ErrorText.clip(head, limit: 80))")
        }
        var fields: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let chunked = fields["transfer-encoding"]?.lowercased().contains("chunked") == true
        var declared: Int?
        if !chunked, let text = fields["content-length"] {
            guard let length = Int(text), length >= 0 else {
                throw failure("bad Content-Length: \(ErrorText.clip(text))")
            }
            guard length <= limit else { throw tooLarge("declares \(length) bytes") }
            declared = length
        }
        // Chunk framing adds a few bytes per chunk; allow for it in what is read.
        let rawLimit = chunked ? limit + limit / 4 + 4096 : limit
        var body = Array(received[headerEnd!...])
        received = []
        while true {
            if let declared, body.count >= declared {
                body.removeSubrange(declared...)
                break
            }
            if chunked, body.count >= 5, body.suffix(5).elementsEqual([48, 13, 10, 13, 10]),
                let decoded = Self.dechunk(body)
            {
                body = decoded
                break
            }
            if body.count > rawLimit { throw tooLarge("is larger") }
            let n = try receive(fd, &chunk)
            if n == 0 {
                if let declared { throw failure("the connection closed after \(body.count) of \(declared) bytes") }
                if chunked {
                    guard let decoded = Self.dechunk(body) else { throw failure("malformed chunked reply") }
                    body = decoded
                }
                break
            }
            body += chunk[..<n]
        }
        if body.count > limit { throw tooLarge("is larger") }
        return (Data(body), status)
    }

    /// The first index of `pattern` in `bytes` at or after `start`.
    static func find(_ pattern: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count >= pattern.count, start <= bytes.count - pattern.count else { return nil }
        for i in start...bytes.count - pattern.count where bytes[i] == pattern[0] {
            if bytes[i..<i + pattern.count].elementsEqual(pattern) { return i }
        }
        return nil
    }

    /// A chunked body decoded, nil when it is incomplete or malformed (RFC 9112 §7.1; chunk
    /// extensions and trailers ignored).
    static func dechunk(_ bytes: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        var i = 0
        while true {
            guard let lineEnd = find([13, 10], in: bytes, from: i) else { return nil }
            let line = String(decoding: bytes[i..<lineEnd], as: UTF8.self)
            let sizeText = line.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16), size >= 0 else {
                return nil
            }
            i = lineEnd + 2
            if size == 0 { return out }
            guard size <= bytes.count - i, bytes.count - i - size >= 2 else { return nil }
            out += bytes[i..<i + size]
            i += size
            guard bytes[i] == 13, bytes[i + 1] == 10 else { return nil }
            i += 2
        }
    }
}
