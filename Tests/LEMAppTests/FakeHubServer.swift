import Foundation
import LEMCore

#if canImport(Glibc)
    import Glibc
#endif

/// A loopback HTTP/1.1 server answering the Hugging Face Hub endpoints `lem pull` uses, the way
/// the Hub answers them (checked against huggingface_hub 1.x/2.x's `file_download.py`):
/// - `GET /api/models/ORG/NAME/revision/REV` → `{"sha", "siblings": [{"rfilename"}]}`;
/// - `HEAD|GET /ORG/NAME/resolve/COMMIT/PATH`: small files 200 with `ETag: "<git blob id>"`;
///   LFS files 302 to another host, `http://localhost:PORT/cdn/<sha256>` (the CDN), with `X-Linked-Etag: "<sha256>"`, `X-Linked-Size`,
///   `X-Repo-Commit`;
/// - `GET /cdn/<sha256>` the bytes, honouring `Range: bytes=N-` (206).
/// With `token` set, requests to the Hub paths without `Authorization: Bearer <token>` get 401.
/// `truncateFirst` makes the first CDN answer of each file stop after that many bytes (the
/// connection closes early), to test resuming.
final class FakeHubServer: @unchecked Sendable {
    struct File {
        var data: Data
        var lfs: Bool
    }

    let repo: String
    let commit: String
    let files: [String: File]
    let token: String?
    let truncateFirst: Int?
    private(set) var port: UInt16 = 0
    private var listener: Int32 = -1
    private let lock = NSLock()
    private var truncated = Set<String>()
    private var log: [String] = []

    init(repo: String, commit: String, files: [String: File], token: String? = nil, truncateFirst: Int? = nil) throws {
        self.repo = repo
        self.commit = commit
        self.files = files
        self.token = token
        self.truncateFirst = truncateFirst
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(listener, 16) == 0 else {
            close(listener)
            throw AppTestError("fake hub: cannot listen")
        }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &len) }
        }
        port = UInt16(bigEndian: addr.sin_port)
        let fd = listener
        let thread = Thread { [self] in acceptLoop(fd) }
        thread.start()
    }

    var endpoint: URL { URL(string: "http://127.0.0.1:\(port)")! }

    /// The request lines served so far ("GET /path").
    var requests: [String] {
        lock.lock()
        defer { lock.unlock() }
        return log
    }

    /// Closes the listening socket once (a second close could hit a descriptor another test
    /// opened meanwhile).
    func stop() {
        lock.lock()
        let fd = listener
        listener = -1
        lock.unlock()
        guard fd >= 0 else { return }
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }

    deinit { stop() }

    static func gitBlobID(_ data: Data) -> String {
        // Only used as an opaque ETag here; huggingface_hub does not check it.
        "b" + SHA256.hex(Array("blob \(data.count)\0".utf8) + Array(data)).prefix(39)
    }

    private func acceptLoop(_ fd: Int32) {
        while true {
            lock.lock()
            let stopped = listener < 0
            lock.unlock()
            if stopped { return }
            let client = accept(fd, nil, nil)
            if client < 0 { return }
            let t = Thread { [self] in
                handle(client)
                close(client)
            }
            t.start()
        }
    }

    private func readRequest(_ fd: Int32) -> (method: String, path: String, headers: [String: String])? {
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while !bytes.suffix(4).elementsEqual([13, 10, 13, 10]) {
            let n = read(fd, &buf, buf.count)
            if n <= 0 { return nil }
            bytes += buf[0..<n]
            if bytes.count > 65536 { return nil }
        }
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.components(separatedBy: "\r\n")
        let first = lines.removeFirst().split(separator: " ")
        guard first.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        return (String(first[0]), String(first[1]), headers)
    }

    private func send(_ fd: Int32, status: String, headers: [(String, String)], body: Data, bodyLimit: Int? = nil) {
        var head = "HTTP/1.1 \(status)\r\nConnection: close\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        head += "\r\n"
        var out = Data(head.utf8)
        out.append(bodyLimit.map { body.prefix($0) } ?? body)
        out.withUnsafeBytes { raw in
            var sent = 0
            while sent < raw.count {
                let n = write(fd, raw.baseAddress! + sent, raw.count - sent)
                if n <= 0 { return }
                sent += n
            }
        }
    }

    private func handle(_ fd: Int32) {
        guard let (method, rawPath, headers) = readRequest(fd) else { return }
        lock.lock()
        log.append("\(method) \(rawPath)")
        lock.unlock()
        let path = rawPath.removingPercentEncoding ?? rawPath
        let isHEAD = method == "HEAD"
        func reply(_ status: String, _ headers: [(String, String)] = [], _ body: Data = Data(), limit: Int? = nil) {
            send(
                fd, status: status, headers: headers + [("Content-Length", "\(body.count)")],
                body: isHEAD ? Data() : body,
                bodyLimit: limit)
        }
        if path.hasPrefix("/cdn/") {
            let sha = String(path.dropFirst(5))
            guard let (name, file) = files.first(where: { SHA256.hex($0.value.data) == sha }) else {
                return reply("404 Not Found")
            }
            var start = 0
            if let range = headers["range"], range.hasPrefix("bytes="), range.hasSuffix("-"),
                let n = Int(range.dropFirst(6).dropLast())
            {
                start = n
            }
            guard start <= file.data.count else { return reply("416 Range Not Satisfiable") }
            var limit: Int? = nil
            lock.lock()
            if let cut = truncateFirst, !truncated.contains(name) {
                truncated.insert(name)
                limit = cut
            }
            lock.unlock()
            let body = file.data.subdata(in: start..<file.data.count)
            if start > 0 {
                let headers = [("Content-Range", "bytes \(start)-\(file.data.count - 1)/\(file.data.count)")]
                // The declared length is the whole rest; a truncated answer closes early.
                return reply("206 Partial Content", headers, body, limit: limit)
            }
            return reply("200 OK", [], body, limit: limit)
        }
        if let token, headers["authorization"] != "Bearer \(token)" {
            return reply("401 Unauthorized", [("X-Error-Code", "GatedRepo")], Data("{\"error\":\"gated\"}".utf8))
        }
        if path == "/api/models/\(repo)/revision/main" || path == "/api/models/\(repo)/revision/\(commit)" {
            let siblings = files.keys.sorted().map { JSONValue.object(["rfilename": .string($0)]) }
            let body = JSONValue.object(["id": .string(repo), "sha": .string(commit), "siblings": .array(siblings)])
                .jsonText()
            return reply("200 OK", [("Content-Type", "application/json")], Data(body.utf8))
        }
        let prefix = "/\(repo)/resolve/\(commit)/"
        if path.hasPrefix(prefix), let file = files[String(path.dropFirst(prefix.count))] {
            let sha = SHA256.hex(file.data)
            if file.lfs {
                return reply(
                    "302 Found",
                    [
                        ("Location", "http://localhost:\(port)/cdn/\(sha)"), ("X-Linked-Etag", "\"\(sha)\""),
                        ("X-Linked-Size", "\(file.data.count)"),
                        ("X-Repo-Commit", commit), ("ETag", "\"\(Self.gitBlobID(file.data))\"")
                    ])
            }
            return reply("200 OK", [("ETag", "\"\(Self.gitBlobID(file.data))\""), ("X-Repo-Commit", commit)], file.data)
        }
        reply("404 Not Found", [("X-Error-Code", "EntryNotFound")])
    }
}
