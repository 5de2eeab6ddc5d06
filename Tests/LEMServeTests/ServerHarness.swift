import Foundation
import LEMCore
import LEMEngine
import LEMEval
import TestSupport

@testable import LEMServe

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// `lem serve` in-process on an ephemeral loopback port, with the project's own HTTP client.
final class ServerHarness: Sendable {
    let service: CompletionService
    let port: Int
    let client: OpenAIClient
    private let task: Task<Void, any Error>

    /// Starts a server for `models`; returns once it listens.
    static func start(
        _ models: ServedModels, configuration: ServeConfiguration = ServeConfiguration(port: 0),
        lane: any DecodeLane = SequentialLane(),
        apiKey: String? = nil
    ) async throws -> ServerHarness {
        var configuration = configuration
        configuration.port = 0
        configuration.apiKey = apiKey ?? configuration.apiKey
        let service = CompletionService(models: models, configuration: configuration, lane: lane)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let task = Task {
            defer { continuation.finish() }
            try await OpenAIServer(service: service).run { continuation.yield($0) }
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            _ = try await task.value
            throw APIError.invalid("server stopped before listening")
        }
        return ServerHarness(service: service, port: port, task: task, apiKey: configuration.apiKey)
    }

    private init(service: CompletionService, port: Int, task: Task<Void, any Error>, apiKey: String?) {
        self.service = service
        self.port = port
        self.task = task
        client = OpenAIClient(baseURL: URL(string: "http://127.0.0.1:\(port)/v1")!, apiKey: apiKey, timeout: 60)
    }

    /// Stops the server.
    func stop() async {
        task.cancel()
        _ = try? await task.value
    }

    /// POSTs `body` (raw text) to `path` (under the server root) without an API key.
    func raw(_ path: String, body: String, method: String = "POST", headers: [String: String] = [:]) async throws
        -> (status: Int, json: JSONValue?)
    {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!, timeoutInterval: 30)
        request.httpMethod = method
        if method == "POST" { request.httpBody = Data(body.utf8) }
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, try? JSONValue.parse(data))
    }
}

/// A tiny chat model: gemma3_tiny's weights and tokenizer with a plain chat template and a
/// context long enough for the tests.
enum TinyChatModel {
    static let template = """
        {%- for m in messages -%}{{ m['role'] }}: {{ m['content'] }}
        {% endfor -%}{%- if add_generation_prompt -%}assistant:{%- endif -%}
        """

    static let loaded: LoadedModel? = try? make()

    static func make() throws -> LoadedModel {
        let fm = FileManager.default
        let dir = fm.temporaryDirectory.appendingPathComponent("lemserve-\(UUID().uuidString)/tiny-chat")
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        let source = TestPaths.fixture("engine/gemma3_tiny")
        for name in ["model.safetensors", "tokenizer.json"] {
            try fm.copyItem(at: source.appendingPathComponent(name), to: dir.appendingPathComponent(name))
        }
        var config = try JSONValue.parse(Data(contentsOf: source.appendingPathComponent("config.json"))).object ?? [:]
        config["max_position_embeddings"] = .int(4096)
        try Data(JSONValue.object(config).jsonText().utf8).write(to: dir.appendingPathComponent("config.json"))
        var tokenizer =
            try JSONValue.parse(Data(contentsOf: source.appendingPathComponent("tokenizer_config.json"))).object ?? [:]
        tokenizer["chat_template"] = .string(template)
        try Data(JSONValue.object(tokenizer).jsonText().utf8).write(
            to: dir.appendingPathComponent("tokenizer_config.json"))
        return try LoadedModel.load(ModelKey(model: dir))
    }
}

/// A lane that never touches the engine: it emits a token every `interval` until cancelled or
/// `maxTokens` is reached, and counts what it saw. For queue, cancellation and disconnect tests.
final class ScriptedLane: DecodeLane, @unchecked Sendable {
    let interval: Double
    private let lock = NSLock()
    private var cancelledJobs = 0
    private var startedJobs = 0

    init(interval: Double) { self.interval = interval }

    var width: Int { 1 }

    var counts: (started: Int, cancelled: Int) { lock.withLock { (startedJobs, cancelledJobs) } }

    func run(_ jobs: [EngineJob]) {
        for job in jobs {
            lock.withLock { startedJobs += 1 }
            var stats = GenerationStats(
                promptTokens: job.request.promptIds.count, generatedTokens: 0, promptSeconds: 0, generationSeconds: 0,
                stopReason: .maxTokens)
            while stats.generatedTokens < job.request.maxTokens {
                if job.handle.isCancelled {
                    stats.stopReason = .cancelled
                    lock.withLock { cancelledJobs += 1 }
                    break
                }
                Thread.sleep(forTimeInterval: interval)
                stats.generatedTokens += 1
                job.emit(.token(id: 1, text: "x"))
            }
            job.emit(.finished(stats))
        }
    }
}

/// A raw TCP connection to the server, for what an HTTP client will not send (slow heads).
final class RawConnection {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else { throw APIError.invalid("connect failed") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ text: String) {
        _ = text.utf8CString.withUnsafeBufferPointer {
            Glibc.send(fd, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL))
        }
    }

    /// Reads until the server closes the connection (or 10 s pass); returns what arrived and whether it closed.
    func readToClose() -> (text: String, closed: Bool) {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 { return (String(decoding: bytes, as: UTF8.self), true) }
            if n < 0 { return (String(decoding: bytes, as: UTF8.self), false) }
            bytes += buffer[0..<n]
        }
    }

    deinit { close(fd) }
}
