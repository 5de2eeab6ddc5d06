import Foundation
import LEMEngine

/// How `lem serve` listens and what it allows: address, credentials and the limits that keep
/// one client from taking the server down.
public struct ServeConfiguration: Sendable {
    /// The address to bind; loopback unless told otherwise.
    public var host: String
    /// The port; 0 picks a free one (tests).
    public var port: Int
    /// The bearer token clients must send; required when `host` is not loopback.
    public var apiKey: String?
    /// The largest request body accepted (413 beyond).
    public var maxBodyBytes: Int
    /// The largest `max_tokens` a request may ask for; also the default when it asks for none.
    public var maxTokensLimit: Int
    /// Requests waiting for the engine before new ones get 429.
    public var maxQueue: Int
    /// Sequences decoded together (1 until the engine's batched decode is plugged in).
    public var maxBatch: Int
    /// Seconds a request may run, queueing included, before it is cancelled.
    public var requestTimeout: Double
    /// Seconds a connection may stay idle, or take to send its request head, before it is closed.
    public var idleTimeout: Double
    /// The most prompts one `/v1/completions` request may carry.
    public var maxPrompts: Int
    /// The most alternatives per position for `logprobs`.
    public var maxLogprobs: Int

    /// The defaults: loopback port 8080, no key, 1 MiB bodies, 2048 tokens, 64 queued requests,
    /// 10-minute requests, 30-second idle connections.
    public init(
        host: String = "127.0.0.1", port: Int = 8080, apiKey: String? = nil, maxBodyBytes: Int = 1 << 20,
        maxTokensLimit: Int = 2048, maxQueue: Int = 64, maxBatch: Int = 1, requestTimeout: Double = 600,
        idleTimeout: Double = 30, maxPrompts: Int = 64, maxLogprobs: Int = 20
    ) {
        self.host = host
        self.port = port
        self.apiKey = apiKey
        self.maxBodyBytes = maxBodyBytes
        self.maxTokensLimit = maxTokensLimit
        self.maxQueue = maxQueue
        self.maxBatch = maxBatch
        self.requestTimeout = requestTimeout
        self.idleTimeout = idleTimeout
        self.maxPrompts = maxPrompts
        self.maxLogprobs = maxLogprobs
    }

    /// Whether `host` only reaches this machine.
    public var isLoopback: Bool {
        ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host.lowercased()) || host.hasPrefix("127.")
    }

    /// A message naming the first setting that cannot work, nil when all can.
    public func validationError() -> String? {
        if !isLoopback && (apiKey ?? "").isEmpty {
            return "--host \(host) reaches beyond this machine: give an API key (--api-key-env VAR)"
        }
        if !(0...65535).contains(port) { return "--port must be in 0...65535, got \(port)" }
        if maxBodyBytes < 1024 { return "the body limit must be at least 1024 bytes" }
        if maxTokensLimit < 1 { return "--max-tokens-limit must be at least 1" }
        if maxQueue < 0 { return "--max-queue must be >= 0" }
        if maxBatch < 1 { return "--max-batch must be at least 1" }
        if !(requestTimeout > 0) || !(idleTimeout > 0) { return "timeouts must be positive" }
        return nil
    }
}

/// The models a server answers for: the base model and each adapter under its own name.
public struct ServedModels: Sendable {
    /// Name → loaded model, in the order given (base first).
    public let entries: [(name: String, model: LoadedModel)]

    /// The base model named `baseName` and adapters by name.
    public init(base: LoadedModel, baseName: String, adapters: [(name: String, model: LoadedModel)] = []) {
        entries = [(baseName, base)] + adapters
    }

    /// The model `name` asks for; an absent or empty name is the base model.
    public func model(named name: String?) -> LoadedModel? {
        guard let name, !name.isEmpty else { return entries.first?.model }
        return entries.first { $0.name == name }?.model
    }

    /// The names, base first.
    public var names: [String] { entries.map(\.name) }
}
