import ArgumentParser
import Foundation
import LEMApp
import LEMCore
import LEMEngine
import LEMEval
import LEMScoring
import LEMStore

/// `lem bench run`: answers a benchmark with a model on the local engine, into the store.
struct BenchRunCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Generate a model's answers to a benchmark with the LEM settings, resumably, into the store.",
        discussion: """
            Settings as the LEM scripts: temperature 0.3 (--temperature 0: greedy), 512 new tokens for \
            gsm8k and seeds, 256 for the others, the task instruction folded into the user turn. Each \
            answer is committed as it is made; running the same command again resumes, skipping answered \
            items. Ctrl-C stops after the current token (a second Ctrl-C exits at once). Benchmarks other \
            than seeds must be imported first (lem bench import ../shared/lem/benchmarks); FILE may be any \
            question JSONL or seeds JSON file.
            """)

    @OptionGroup var database: DatabaseOption

    @OptionGroup var model: ModelOption

    @Option(name: .customLong("model-name"), help: "Name to store the model under (default: file name, +adapter).")
    var modelName: String?

    @Option(help: "gsm8k, truthfulqa, do_not_answer, toxigen, seeds, or a question/seeds FILE.")
    var benchmark: String

    @Option(help: "Answer only the first N items (key order).")
    var limit: Int?

    @Option(help: "none, system or sandwich.")
    var kernel: String = "none"

    @Option(name: .customLong("kernel-file"), help: "Kernel text file (or folder with kernel.md + axioms.json).")
    var kernelFile: String?

    @Option(help: "Sampling seed.")
    var seed: UInt64 = 0

    @Option(help: "Sampling temperature (default 0.3, the LEM setting; 0: greedy).")
    var temperature: Double?

    @Option(
        name: .customLong("max-tokens"), help: "New tokens per answer (default 512 for gsm8k/seeds, 256 otherwise).")
    var maxTokens: Int?

    @Option(
        name: .customLong("engine-url"),
        help: "Answer on an OpenAI-compatible server instead (its API root, e.g. http://127.0.0.1:8080/v1).")
    var engineURL: String?

    @Option(name: .customLong("engine-model"), help: "The server's model name (default: the first of its /v1/models).")
    var engineModel: String?

    @Option(name: .customLong("engine-key-env"), help: "Environment variable holding the server's API key.")
    var engineKeyEnv: String = "LEM_ENGINE_API_KEY"

    @Option(help: "Items asked at once on --engine-url.")
    var concurrency: Int = 1

    @Option(help: "Items the local engine decodes together (default: 8, or 4 per core up to 32).")
    var batch: Int?

    @Option(
        name: .customLong("prompt-cache-file"),
        help: "A saved prompt (lem cache-prompt, e.g. the kernel) that items starting with its tokens continue from.")
    var promptCacheFiles: [String] = []

    func run(in context: AppContext) async throws {
        guard let mode = KernelMode(rawValue: kernel) else {
            throw ValidationError("--kernel must be none, system or sandwich (got \(kernel))")
        }
        if engineURL == nil && (engineModel != nil || concurrency != 1) {
            throw ValidationError("--engine-model and --concurrency need --engine-url")
        }
        if engineURL != nil && batch != nil {
            throw ValidationError("--batch is for the local engine, not --engine-url")
        }
        let store = try database.open(in: context)
        // The run's name first, without writing: a run another process answers is refused before
        // this one waits on the database (that process may hold its write lock, even stopped).
        let name = try BenchRunCommand.benchmarkName(
            benchmark, store: store, seeds: context.paths.seedsDirectory, importing: false)
        var kernelText: EthicsKernel?
        if mode != .none { kernelText = try Self.kernel(file: kernelFile, paths: context.paths) }
        var remote: RemoteResponseGenerator?
        if let engineURL { remote = try await remoteEngine(engineURL, context: context) }
        let key = try remote.map { ModelKey(model: $0.model) } ?? model.key(in: context)
        var plan = BenchRunPlan(
            model: key, modelName: modelName ?? remote.map { $0.model + (mode == .none ? "" : "+" + mode.rawValue) },
            benchmark: name, limit: limit, kernelMode: mode, kernel: kernelText, maxTokens: maxTokens, seed: seed)
        plan.temperature = temperature
        plan.remote = remote
        plan.concurrency = concurrency
        plan.batch = batch
        do { try plan.validate() } catch { throw ValidationError("\(error)") }
        let spec = plan.spec
        try plan.checkUnclaimed(store: store)  // before loading: a claimed run is refused at once
        _ = try BenchRunCommand.benchmarkName(benchmark, store: store, seeds: context.paths.seedsDirectory)
        let loaded: LoadedModel?
        if remote == nil {
            printError("loading \(key.title)…")
            let model = try context.load(key)
            for file in promptCacheFiles {
                let url = promptCacheURL(file, in: context)
                let tokens = try model.seedPrefixCache(from: url)
                printError("\(tokens) prompt tokens from \(url.lastPathComponent) for items that start with them")
            }
            loaded = model
        } else {
            loaded = nil
        }
        printError(
            "\(spec.model) on \(name): kernel \(mode.rawValue), temperature \(spec.sampling.temperature), "
                + "max \(spec.sampling.maxTokens) tokens, seed \(seed)"
                + (remote.map { ", \($0.engine), \(concurrency) at once" }
                    ?? ", \(batch ?? Generator.defaultBatch) decoded together") + " → \(store.url.path)")

        let (runID, meter) = try await Self.execute(plan, store: store, model: loaded)
        print(
            "run \(runID): \(spec.model) \(name) complete, \(meter.progress.done)/\(meter.progress.total) answered "
                + "(\(meter.progress.sessionItems) now, \(meter.progress.sessionTokens) tokens)")
    }

    /// Runs or resumes `plan` on `model` (nil: its remote engine) with the progress line on stderr;
    /// Ctrl-C stops it with its answers kept (exit 130), a second Ctrl-C quits at once.
    static func execute(_ plan: BenchRunPlan, store: ResultStore, model loaded: LoadedModel?) async throws
        -> (runID: Int64, meter: ProgressMeter)
    {
        let meter = ProgressMeter()
        let task = Task {
            if let loaded { return try await plan.run(store: store, model: loaded) { meter.report($0) } }
            return try await plan.runRemote(store: store) { meter.report($0) }
        }
        let interrupts = InterruptWatch { count in
            if count == 1 {
                meter.finishLine()
                printError("stopping… (Ctrl-C again to quit at once)")
                task.cancel()
            } else {
                Foundation.exit(130)
            }
        }
        defer { interrupts.stop() }
        do {
            let runID = try await task.value
            meter.finishLine()
            return (runID, meter)
        } catch is CancellationError {
            meter.finishLine()
            printError(
                "interrupted: \(meter.progress.done)/\(meter.progress.total) answered and kept; run the same "
                    + "command again to resume")
            throw ExitCode(130)
        }
    }

    /// The remote engine `--engine-url` names; without `--engine-model`, the first model the
    /// server lists.
    func remoteEngine(_ url: String, context: AppContext) async throws -> RemoteResponseGenerator {
        try await Self.remoteEngine(
            url, model: engineModel, keyEnv: engineKeyEnv, flag: "--engine-url", context: context)
    }

    /// The engine at API root `url` (named `flag` in messages), asking for `model`, else the first
    /// model the server lists; the API key is read from the environment variable `keyEnv`.
    static func remoteEngine(_ url: String, model: String?, keyEnv: String, flag: String, context: AppContext)
        async throws -> RemoteResponseGenerator
    {
        guard let root = URL(string: url), let scheme = root.scheme, ["http", "https"].contains(scheme),
            root.host != nil
        else {
            throw ValidationError("\(flag) \(url): expected an http(s) URL such as http://127.0.0.1:8080/v1")
        }
        let client = OpenAIClient(baseURL: root, apiKey: context.variable(keyEnv), timeout: 600)
        if let model { return RemoteResponseGenerator(client: client, model: model) }
        let reply: OpenAIClient.Reply
        do {
            reply = try await client.get("models")
            try client.check(reply, path: "models")
        } catch let error as OpenAIClientError {
            throw CommandFailure(description: "\(flag): \(error.message)")
        }
        guard let first = reply.json?["data"]?.array?.first?["id"]?.string else {
            throw CommandFailure(description: "\(flag) \(url): /models lists no model; give the model name")
        }
        return RemoteResponseGenerator(client: client, model: first)
    }

    /// `--benchmark`: a name or file, as `BenchmarkSource.resolve`, with the seeds folder found.
    static func benchmarkName(_ argument: String, store: ResultStore, seeds: URL?, importing: Bool = true) throws
        -> String
    {
        do {
            return try BenchmarkSource.resolve(argument, store: store, seedsDirectory: seeds, importing: importing)
        } catch let error as LocatedError {
            throw CommandFailure(description: error.description)
        }
    }
}

extension BenchRunCommand {
    /// The kernel: `file` (a text file, with the project's axioms, or a folder), else kernel/.
    static func kernel(file: String?, paths: LEMPaths) throws -> EthicsKernel {
        do {
            if let file {
                let url = paths.resolve(file)
                var isDir: ObjCBool = false
                guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
                    throw CommandFailure(description: "--kernel-file \(file): no such file")
                }
                if isDir.boolValue { return try EthicsKernel.load(directory: url) }
                let text = try String(contentsOf: url, encoding: .utf8)
                let axioms = try paths.kernelDirectory.map { try EthicsKernel.load(directory: $0).axioms } ?? []
                return EthicsKernel(text: text.trimmingCharacters(in: .whitespacesAndNewlines), axioms: axioms)
            }
            guard let dir = paths.kernelDirectory else {
                throw CommandFailure(description: "no kernel/ folder found (set LEM_HOME or pass --kernel-file)")
            }
            return try EthicsKernel.load(directory: dir)
        } catch let error as CommandFailure {
            throw error
        } catch {
            throw CommandFailure(description: "\(error)")
        }
    }
}

/// Prints the progress line on stderr: rewritten in place on a terminal, one line per answer otherwise.
final class ProgressMeter: @unchecked Sendable {
    private let lock = NSLock()
    private var state = BenchProgress()
    private let start = Date()
    private var lineOpen = false
    private let isTTY = isatty(STDERR_FILENO) == 1

    /// The latest progress.
    var progress: BenchProgress { lock.withLock { state } }

    /// Applies an event and redraws the line.
    func report(_ event: BenchRunEvent) {
        lock.withLock {
            state.apply(event, elapsed: Date().timeIntervalSince(start))
            var line = state.line
            if case .response(_, let item, _, _, let tokens, let seconds) = event {
                line += "  \(item): \(tokens ?? 0) tok, " + String(format: "%.1fs", seconds ?? 0)
            } else if case .started(let runID, _, let done, let resumed) = event {
                line = (resumed ? "resuming run \(runID) at \(done)" : "run \(runID)") + " · " + line
            } else {
                return
            }
            if isTTY {
                FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
                lineOpen = true
            } else {
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
        }
    }

    /// Ends an in-place line so the next message starts on its own line.
    func finishLine() {
        lock.withLock {
            if lineOpen { FileHandle.standardError.write(Data("\n".utf8)) }
            lineOpen = false
        }
    }
}

/// Counts SIGINTs on a background queue instead of letting the first one kill the process.
final class InterruptWatch: @unchecked Sendable {
    private let source: any DispatchSourceSignal
    private var count = 0

    /// Starts watching; `handler` gets the running count (1 for the first Ctrl-C).
    init(handler: @escaping @Sendable (Int) -> Void) {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: DispatchQueue(label: "lem.bench.sigint"))
        source.setEventHandler { [unowned self] in
            count += 1
            handler(count)
        }
        source.resume()
    }

    /// Stops watching and restores the default action.
    func stop() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}
