import ArgumentParser
import Foundation
import LEMApp
import LEMCore
import LEMEngine
import LEMServe

/// `lem serve`: the model (and its adapters) behind an OpenAI-compatible HTTP API.
struct ServeCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a model and its adapters over the OpenAI-compatible HTTP API.",
        discussion: """
            Endpoints: GET /health, GET /v1/models, POST /v1/chat/completions (stream as server-sent \
            events), POST /v1/completions (echo + logprobs for prompt log-probabilities), and vLLM's \
            POST /tokenize, POST /detokenize, GET /tokenizer_info. Listens on loopback unless --host \
            says otherwise; a --host beyond this machine needs an API key, read from the environment \
            variable --api-key-env names. Requests are queued first come, first served; up to \
            --max-batch of them on one model are decoded together, a new one joining between steps \
            (continuous batching).
            """)

    @OptionGroup var model: ModelOption
    @Option(
        name: .customLong("adapter"), parsing: .singleValue,
        help: "NAME=DIR: also serve the model with this adapter under the model name NAME (repeatable).")
    var adapters: [String] = []
    @Option(name: .customLong("model-name"), help: "The base model's name in the API (default: its file name).")
    var modelName: String?
    @Option(help: "Address to listen on.") var host: String = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port).") var port: Int = 8080
    @Option(name: .customLong("api-key-env"), help: "Environment variable holding the API key clients must send.")
    var apiKeyEnv: String?
    @Option(
        name: .customLong("max-batch"),
        help: "Requests on one model decoded together (default: 8, or 4 per core up to 32; 1: one at a time).")
    var maxBatch: Int = Generator.defaultBatch
    @Option(
        name: .customLong("prompt-cache-bytes"),
        help:
            "Bytes of computed prompt prefixes kept for reuse across requests (default: LEM_PREFIX_CACHE_MB, 512 MiB; 0: none)."
    )
    var promptCacheBytes: Int?
    @Option(name: .customLong("max-queue"), help: "Requests waiting for the engine before 429.") var maxQueue: Int = 64
    @Option(name: .customLong("max-tokens-limit"), help: "The largest max_tokens a request may ask for.")
    var maxTokensLimit: Int = 2048
    @Option(name: .customLong("max-body-bytes"), help: "The largest request body.") var maxBodyBytes: Int = 1 << 20
    @Option(name: .customLong("request-timeout"), help: "Seconds a request may take, queueing included.")
    var requestTimeout: Double = 600

    func run(in context: AppContext) async throws {
        var apiKey: String?
        if let apiKeyEnv {
            guard let value = context.variable(apiKeyEnv) else {
                throw ValidationError("--api-key-env \(apiKeyEnv): the variable is unset or empty")
            }
            apiKey = value
        }
        let configuration = ServeConfiguration(
            host: host, port: port, apiKey: apiKey, maxBodyBytes: maxBodyBytes, maxTokensLimit: maxTokensLimit,
            maxQueue: maxQueue, maxBatch: maxBatch, requestTimeout: requestTimeout)
        if let message = configuration.validationError() { throw ValidationError(message) }
        let adapterSpecs = try adapters.map { spec -> (String, URL) in
            guard let eq = spec.firstIndex(of: "="), eq != spec.startIndex, spec.index(after: eq) != spec.endIndex
            else {
                throw ValidationError("--adapter \(spec): expected NAME=DIR")
            }
            return (String(spec[..<eq]), context.paths.resolve(String(spec[spec.index(after: eq)...])))
        }
        var context = context
        if let promptCacheBytes {
            guard promptCacheBytes >= 0 else { throw ValidationError("--prompt-cache-bytes must be >= 0") }
            var options = context.engineOptions
            options.prefixCacheBytes = promptCacheBytes
            context.engineOptions = options
            context.pool = ModelPool(options: options)
        }
        let baseKey = try model.key(in: context)
        printError("loading \(baseKey.title)…")
        let base = try context.pool.model(for: baseKey)
        let baseName = modelName ?? baseKey.storedName
        var served: [(name: String, model: LoadedModel)] = []
        for (name, url) in adapterSpecs {
            guard name != baseName, !served.contains(where: { $0.name == name }) else {
                throw ValidationError("--adapter \(name): the name is already served")
            }
            printError("loading adapter \(name) from \(url.path)…")
            served.append((name, try context.pool.model(for: ModelKey(model: baseKey.modelURL, adapter: url))))
        }
        let models = ServedModels(base: base, baseName: baseName, adapters: served)
        let lane: any DecodeLane = maxBatch > 1 ? BatchedLane(width: maxBatch) : SequentialLane()
        let service = CompletionService(models: models, configuration: configuration, lane: lane)
        let shownHost = host.contains(":") ? "[\(host)]" : host
        try await OpenAIServer(service: service).run(handleSignals: true) { bound in
            printError(
                "serving \(models.names.joined(separator: ", ")) on http://\(shownHost):\(bound)/v1 "
                    + "(Ctrl-C stops)")
        }
    }
}
