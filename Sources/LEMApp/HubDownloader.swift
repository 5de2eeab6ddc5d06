import Foundation
import LEMCore
import LEMFormats

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `lem pull`: downloads a model repository from the Hugging Face Hub (or `$HF_ENDPOINT`) into
/// the Hugging Face cache, laid out as `huggingface_hub` writes it (blobs by ETag, snapshot
/// symlinks, `refs/<revision>`), so transformers, mlx_lm and `scan_cache_dir` see it.
///
/// Hub endpoints used, as `huggingface_hub.snapshot_download` uses them:
/// - `GET  /api/models/ORG/NAME/revision/REV` → `{"sha": commit, "siblings": [{"rfilename"}]}`;
/// - `HEAD /ORG/NAME/resolve/COMMIT/PATH` without following redirects → `X-Linked-Etag` (LFS
///   files: their sha256) or `ETag` (git blob id), `X-Linked-Size` or `Content-Length`;
/// - `GET  /ORG/NAME/resolve/COMMIT/PATH` with `Range: bytes=N-`, redirects (to the CDN)
///   followed by hand so the range goes along and the token stays on the Hub's host.
/// A file streams into `blobs/<etag>.incomplete`; an interrupted pull resumes from its length.
/// A 64-hex ETag is the file's sha256 and is checked before the blob is renamed into place;
/// other ETags (git blob ids of small files) are checked by size. `HF_TOKEN` goes in
/// `Authorization: Bearer`.
public final class HubDownloader: Sendable {
    /// What a pull reports while it runs.
    public enum Event: Sendable, Equatable {
        /// The revision resolved to `commit`; `files` will be fetched (or found cached).
        case listed(commit: String, files: [String])
        /// `file` is already in the cache.
        case cached(file: String)
        /// Bytes of `file` received so far (resumed bytes included) out of `total` when known.
        case progress(file: String, received: Int64, total: Int64?)
        /// `file` is downloaded, checked and linked.
        case finished(file: String, bytes: Int64)
    }

    public let cache: HubCache
    /// `https://huggingface.co`, or `$HF_ENDPOINT`.
    public let endpoint: URL
    let token: String?
    /// Seconds without data before a request fails.
    let idleTimeout: TimeInterval

    public static let defaultEndpoint = URL(string: "https://huggingface.co")!

    public init(
        cache: HubCache, endpoint: URL = HubDownloader.defaultEndpoint, token: String? = nil,
        idleTimeout: TimeInterval = 60
    ) {
        self.cache = cache
        self.endpoint = endpoint
        self.token = token
        self.idleTimeout = idleTimeout
    }

    /// Downloads the files of `repo` at `revision` matching `include` (fnmatch globs; empty: all)
    /// and returns the snapshot. Blocks; call it off the UI thread.
    @discardableResult
    public func pull(
        repo: String, revision: String = "main", include: [String] = [],
        report: @escaping (Event) -> Void = { _ in }
    ) throws -> HubCache.Snapshot {
        guard HubCache.isRepoID(repo), repo.contains("/") else {
            throw AppError("'\(repo)' is not a Hugging Face repository id (ORG/NAME)")
        }
        let (commit, all) = try listFiles(repo: repo, revision: revision)
        let files = include.isEmpty ? all : all.filter { path in include.contains { Glob.matches($0, path) } }
        guard !files.isEmpty else {
            throw AppError(
                "\(repo)@\(revision): no file matches \(include.joined(separator: " ")) (files: \(all.prefix(20).joined(separator: ", ")))"
            )
        }
        report(.listed(commit: commit, files: files))
        for path in files {
            try fetch(repo: repo, commit: commit, path: path, report: report)
        }
        if revision != commit { try cache.writeRef(repo: repo, revision: revision, commit: commit) }
        guard let snapshot = cache.snapshot(repo: repo, revision: commit) else {
            throw AppError("\(repo)@\(commit): no snapshot folder in \(cache.root.path) after the download")
        }
        return snapshot
    }

    // MARK: Hub requests

    /// `path` with each component percent-encoded.
    static func encode(_ path: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return path.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.addingPercentEncoding(withAllowedCharacters: allowed) ?? String($0) }.joined(separator: "/")
    }

    func url(_ path: String) -> URL {
        let base =
            endpoint.absoluteString.hasSuffix("/")
            ? String(endpoint.absoluteString.dropLast()) : endpoint.absoluteString
        return URL(string: base + path)!
    }

    func listFiles(repo: String, revision: String) throws -> (String, [String]) {
        let rev =
            revision.addingPercentEncoding(
                withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? revision
        let api = url("/api/models/\(Self.encode(repo))/revision/\(rev)")
        let (response, body) = try send(api, method: "GET")
        try check(response, api, what: "\(repo)@\(revision)")
        guard case .object(let o)? = try? JSONValue.parse(body),
            let sha = o["sha"]?.string, let siblings = o["siblings"]?.array
        else {
            throw AppError("\(api.absoluteString): expected {\"sha\", \"siblings\"} from the Hub's model API")
        }
        guard sha.count >= 7, sha.allSatisfy({ $0.isHexDigit }) else {
            throw AppError("\(api.absoluteString): commit '\(sha)' is not a hash")
        }
        let names: [String] = siblings.compactMap { $0["rfilename"]?.string }
        let files = names.filter(Self.isSafeRelativePath)
        return (sha, files)
    }

    /// Whether a repository file path stays inside the snapshot folder.
    static func isSafeRelativePath(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        return !path.isEmpty && !parts.contains { $0.isEmpty || $0 == "." || $0 == ".." }
    }

    /// The blob name and size of `path` at `commit`, from a HEAD that does not follow redirects
    /// (an LFS file's headers are on the Hub's redirect, not on the CDN's answer).
    func metadata(repo: String, commit: String, path: String) throws -> (etag: String, size: Int64?) {
        let head = url("/\(Self.encode(repo))/resolve/\(commit)/\(Self.encode(path))")
        var target = head
        for _ in 0..<5 {
            let (response, _) = try send(target, method: "HEAD")
            let linked = response.value(forHTTPHeaderField: "X-Linked-Etag")
            if (300..<400).contains(response.statusCode), linked == nil,
                let location = response.value(forHTTPHeaderField: "Location"),
                let next = URL(string: location, relativeTo: target),
                next.host == nil || next.host == head.host
            {
                target = next.absoluteURL  // a renamed repository: relative redirects only
                continue
            }
            if response.statusCode >= 400 { try check(response, target, what: "\(repo)/\(path)") }
            guard let raw = linked ?? response.value(forHTTPHeaderField: "ETag") else {
                throw AppError("\(target.absoluteString): the Hub sent no ETag")
            }
            let etag = Self.normalize(etag: raw)
            guard !etag.isEmpty, etag.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
                throw AppError("\(target.absoluteString): unusable ETag '\(raw)'")
            }
            let size =
                (response.value(forHTTPHeaderField: "X-Linked-Size")
                ?? response.value(forHTTPHeaderField: "Content-Length"))
                .flatMap { Int64($0) }
            return (etag, size)
        }
        throw AppError("\(head.absoluteString): too many redirects")
    }

    /// `W/"abc"` → `abc`.
    static func normalize(etag: String) -> String {
        var e = etag.trimmingCharacters(in: .whitespaces)
        if e.hasPrefix("W/") { e.removeFirst(2) }
        return e.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    }

    func fetch(repo: String, commit: String, path: String, report: @escaping (Event) -> Void) throws {
        let (etag, size) = try metadata(repo: repo, commit: commit, path: path)
        let blob = cache.blobURL(repo: repo, etag: etag)
        let fm = FileManager.default
        if let existing = try? fm.attributesOfItem(atPath: blob.path)[.size] as? Int64, size == nil || existing == size
        {
            try cache.link(repo: repo, commit: commit, path: path, etag: etag)
            report(.cached(file: path))
            return
        }
        try fm.createDirectory(at: blob.deletingLastPathComponent(), withIntermediateDirectories: true)
        let partial = blob.appendingPathExtension("incomplete")
        if !fm.fileExists(atPath: partial.path) { _ = fm.createFile(atPath: partial.path, contents: nil) }
        let handle = try FileHandle(forUpdating: partial)
        defer { try? handle.close() }

        // Resume: hash what is already there, then ask for the rest.
        var hasher = SHA256()
        var have: Int64 = 0
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(chunk)
            have += Int64(chunk.count)
        }
        if let size, have > size {  // not ours: start over
            try handle.truncate(atOffset: 0)
            hasher = SHA256()
            have = 0
        }
        let sink = DownloadSink(handle: handle, hasher: hasher, received: have)
        if size == nil || have < size! {
            var target = url("/\(Self.encode(repo))/resolve/\(commit)/\(Self.encode(path))")
            var hops = 0
            while true {
                var lastReport = Date.distantPast
                let (response, _) = try send(target, method: "GET", range: sink.received, sink: sink) { received in
                    let now = Date()
                    if now.timeIntervalSince(lastReport) >= 0.1 {
                        lastReport = now
                        report(.progress(file: path, received: received, total: size))
                    }
                }
                if (300..<400).contains(response.statusCode),
                    let location = response.value(forHTTPHeaderField: "Location"),
                    let next = URL(string: location, relativeTo: target), hops < 5
                {
                    target = next.absoluteURL
                    hops += 1
                    continue
                }
                if response.statusCode == 416, let size, sink.received == size { break }
                try check(response, target, what: "\(repo)/\(path)")
                break
            }
        }
        let received = sink.received
        report(.progress(file: path, received: received, total: size))
        if let size, received != size {
            throw AppError(
                "\(repo)/\(path): received \(received) bytes, the Hub announced \(size) (run lem pull again to resume)")
        }
        if etag.count == 64, etag.allSatisfy({ $0.isHexDigit }) {
            let digest = sink.hasher.hexDigest()
            guard digest == etag.lowercased() else {
                try? fm.removeItem(at: partial)
                throw AppError(
                    "\(repo)/\(path): sha256 \(digest) does not match the Hub's \(etag); the partial file was removed")
            }
        }
        try handle.synchronize()
        try fm.moveItem(at: partial, to: blob)
        try cache.link(repo: repo, commit: commit, path: path, etag: etag)
        report(.finished(file: path, bytes: received))
    }

    /// An HTTP status as an error naming what was asked for; nothing for 2xx.
    func check(_ response: HTTPURLResponse, _ url: URL, what: String) throws {
        switch response.statusCode {
        case 200..<300: return
        case 401, 403:
            throw AppError(
                "\(what): the Hub refused access (HTTP \(response.statusCode)); set HF_TOKEN for gated or private models"
            )
        case 404: throw AppError("\(what): not found on \(endpoint.absoluteString) (HTTP 404)")
        default: throw AppError("\(what): HTTP \(response.statusCode) from \(url.absoluteString)")
        }
    }

    // MARK: Transport

    /// One request; redirects are returned, not followed. With a `sink`, a 200/206 body streams
    /// into it (206 appends, 200 restarts the file); otherwise the body is returned.
    func send(
        _ url: URL, method: String, range: Int64 = 0, sink: DownloadSink? = nil,
        progress: @escaping (Int64) -> Void = { _ in }
    ) throws -> (HTTPURLResponse, Data) {
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.timeoutInterval = idleTimeout
        request.setValue("identity", forHTTPHeaderField: "Accept-Encoding")
        request.setValue("lem-workbench", forHTTPHeaderField: "User-Agent")
        if let token, url.host == endpoint.host {
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        }
        if range > 0 { request.setValue("bytes=\(range)-", forHTTPHeaderField: "Range") }
        let transfer = Transfer(sink: sink, progress: progress)
        let session = URLSession(configuration: .ephemeral, delegate: transfer, delegateQueue: nil)
        session.dataTask(with: request).resume()
        transfer.done.wait()
        session.finishTasksAndInvalidate()
        if let error = transfer.failure {
            throw AppError("\(method) \(url.absoluteString): \(error)")
        }
        guard let response = transfer.response else { throw AppError("\(method) \(url.absoluteString): no response") }
        return (response, transfer.body)
    }
}

/// Where a download's bytes go: the partial blob and the running sha256.
final class DownloadSink: @unchecked Sendable {
    let handle: FileHandle
    var hasher: SHA256
    var received: Int64

    init(handle: FileHandle, hasher: SHA256, received: Int64) {
        self.handle = handle
        self.hasher = hasher
        self.received = received
    }

    /// A 200 answer to a ranged request: the server sends the whole file.
    func restart() throws {
        try handle.truncate(atOffset: 0)
        hasher = SHA256()
        received = 0
    }

    func append(_ data: Data) throws {
        try handle.seekToEnd()
        try handle.write(contentsOf: data)
        hasher.update(data)
        received += Int64(data.count)
    }
}

/// The delegate of one request (callbacks arrive one at a time on the session's serial queue;
/// `done` publishes the results to the waiting caller).
private final class Transfer: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let done = DispatchSemaphore(value: 0)
    let sink: DownloadSink?
    let progress: (Int64) -> Void
    var response: HTTPURLResponse?
    var body = Data()
    var failure: String?
    private var streaming = false

    init(sink: DownloadSink?, progress: @escaping (Int64) -> Void) {
        self.sink = sink
        self.progress = progress
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)  // the caller follows redirects itself
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void
    ) {
        let http = response as? HTTPURLResponse
        self.response = http
        if let sink, let status = http?.statusCode {
            streaming = status == 200 || status == 206
            if status == 200, sink.received > 0 {
                do { try sink.restart() } catch {
                    failure = "\(error)"
                    completionHandler(.cancel)
                    return
                }
            }
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard let sink, streaming else {
            if body.count < 16 << 20 { body.append(data) }
            return
        }
        do {
            try sink.append(data)
            progress(sink.received)
        } catch {
            failure = "cannot write: \(error)"
            dataTask.cancel()
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        if failure == nil, let error { failure = (error as NSError).localizedDescription }
        done.signal()
    }
}

/// Shell-style globs as Python's `fnmatch` reads them (what `huggingface_hub` matches
/// `allow_patterns` with): `*` any run of characters, `/` included; `?` one character;
/// `[abc]`, `[a-z]`, `[!abc]` one character of (not of) a set. A pattern ending in `/` matches
/// everything under that folder.
enum Glob {
    static func matches(_ pattern: String, _ path: String) -> Bool {
        let p = Array(pattern.hasSuffix("/") ? pattern + "*" : pattern)
        let s = Array(path)
        // Iterative matcher with one backtrack point for the last `*`.
        var pi = 0
        var si = 0
        var star = -1
        var mark = 0
        while si < s.count {
            if pi < p.count, p[pi] == "*" {
                star = pi
                mark = si
                pi += 1
            } else if pi < p.count, case let (ok, next) = single(p, pi, s[si]), ok {
                pi = next
                si += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                si = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }

    /// Whether pattern element at `i` matches `c`, and the index after the element.
    private static func single(_ p: [Character], _ i: Int, _ c: Character) -> (Bool, Int) {
        if p[i] == "?" { return (true, i + 1) }
        guard p[i] == "[", let close = p[(i + 1)...].dropFirst().firstIndex(of: "]") else { return (p[i] == c, i + 1) }
        var j = i + 1
        let negate = p[j] == "!"
        if negate { j += 1 }
        var hit = false
        while j < close {
            if j + 2 < close, p[j + 1] == "-" {
                if p[j] <= c && c <= p[j + 2] { hit = true }
                j += 3
            } else {
                if p[j] == c { hit = true }
                j += 1
            }
        }
        return (hit != negate, close + 1)
    }
}
