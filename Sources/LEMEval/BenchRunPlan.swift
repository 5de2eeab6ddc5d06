import Foundation
import LEMCore
import LEMEngine
import LEMScoring
import LEMStore

/// Everything `lem bench run` (or the Bench panel) needs to start or resume a run: which model,
/// which benchmark, how many items, kernel mode and sampling overrides.
public struct BenchRunPlan: Sendable {
    /// The model: checkpoint, optional LoRA/DoRA adapter (mlx_lm or PEFT) and its strength.
    public var model: ModelKey
    /// The name stored for the model; default `defaultModelName(...)`.
    public var modelName: String?
    /// The benchmark's stored name (see `BenchmarkSource.resolve`).
    public var benchmark: String
    /// Answer only the first `limit` items (key order).
    public var limit: Int?
    /// Kernel placement.
    public var kernelMode: KernelMode
    /// The kernel, required unless `kernelMode == .none`.
    public var kernel: EthicsKernel?
    /// New tokens per answer; default `BenchPrompt.defaultMaxTokens`.
    public var maxTokens: Int?
    /// Sampling seed.
    public var seed: UInt64
    /// Sampling temperature; nil: the LEM scripts' 0.3 (`BenchPrompt.temperature`), 0: greedy.
    public var temperature: Double?
    /// A remote OpenAI-compatible engine answering instead of the local one; nil: local.
    public var remote: RemoteResponseGenerator?
    /// Items asked at once on a remote engine.
    public var concurrency: Int = 1
    /// Items the local engine decodes together; nil: `Generator.defaultBatch`. Answers do not
    /// depend on it (a batched step computes each row as a single one does).
    public var batch: Int?

    /// Creates a plan.
    public init(
        model: ModelKey, modelName: String? = nil, benchmark: String, limit: Int? = nil,
        kernelMode: KernelMode = .none, kernel: EthicsKernel? = nil, maxTokens: Int? = nil, seed: UInt64 = 0
    ) {
        self.model = model
        self.modelName = modelName
        self.benchmark = benchmark
        self.limit = limit
        self.kernelMode = kernelMode
        self.kernel = kernel
        self.maxTokens = maxTokens
        self.seed = seed
    }

    /// The model's file or folder name without `.gguf`, plus `+<adapter folder>` with an adapter
    /// and `+system`/`+sandwich` with a kernel, so that a fine-tune or a kernel condition is
    /// reported beside the plain model rather than replacing it (reports use each model's latest run).
    public static func defaultModelName(model: ModelKey, kernelMode: KernelMode = .none) -> String {
        model.storedName + (kernelMode == .none ? "" : "+" + kernelMode.rawValue)
    }

    /// The run's identity: model name, benchmark, adapter, the LEM sampling settings, kernel.
    public var spec: RunSpec {
        RunSpec(
            model: modelName ?? Self.defaultModelName(model: model, kernelMode: kernelMode),
            benchmark: benchmark,
            adapter: model.adapter.map { $0 + (model.scale == 1 ? "" : " ×\(model.scale)") },
            sampling: BenchPrompt.sampling(for: benchmark, maxTokens: maxTokens, seed: seed, temperature: temperature),
            kernelMode: kernelMode, kernel: kernelMode == .none ? nil : kernel?.fingerprint, engine: remote?.engine)
    }

    /// Sets the kernel mode by name (`none`, `system`, `sandwich`), loading the kernel from
    /// `directory` (kernel.md + axioms.json) when the mode needs it.
    public mutating func setKernelMode(named name: String, directory: URL?) throws {
        guard let mode = KernelMode(rawValue: name) else {
            throw LocatedError("kernel mode `\(name)`", "expected none, system or sandwich")
        }
        kernelMode = mode
        if mode != .none, kernel == nil, let directory { kernel = try EthicsKernel.load(directory: directory) }
    }

    /// Checks what can be checked before loading a model.
    public func validate() throws {
        if kernelMode != .none, kernel == nil {
            throw LocatedError(
                "--kernel \(kernelMode.rawValue)", "needs the kernel files (kernel/kernel.md and axioms.json)")
        }
        if let maxTokens, maxTokens < 1 { throw LocatedError("--max-tokens", "must be at least 1") }
        if let temperature, !(0...2).contains(temperature) {
            throw LocatedError("--temperature", "must be in [0, 2], got \(temperature)")
        }
        if !model.scale.isFinite { throw LocatedError("--adapter-scale", "must be a finite number") }
        if let limit, limit < 1 { throw LocatedError("--limit", "must be at least 1") }
        if concurrency < 1 { throw LocatedError("--concurrency", "must be at least 1") }
        if let batch, batch < 1 { throw LocatedError("--batch", "must be at least 1") }
    }

    /// Throws when the plan's run is being answered by another process (checked again when the
    /// run starts); call it before loading the model.
    public func checkUnclaimed(store: ResultStore) throws {
        try BenchRunner.checkUnclaimed(spec, store: store)
    }

    /// Runs or resumes the plan on a loaded model, committing each answer as it arrives.
    @discardableResult
    public func run(
        store: ResultStore, model loaded: LoadedModel,
        progress: @escaping @Sendable (BenchRunEvent) -> Void = { _ in }
    ) async throws -> Int64 {
        let batch = self.batch ?? Generator.defaultBatch
        if loaded.generator.maxBatch < batch { loaded.generator.maxBatch = batch }
        // As many items in flight as the engine is to decode together.
        return try await run(
            store: store, generator: EngineResponseGenerator(model: loaded), concurrency: batch, progress: progress)
    }

    /// Runs or resumes the plan on its remote engine (`remote` must be set).
    @discardableResult
    public func runRemote(store: ResultStore, progress: @escaping @Sendable (BenchRunEvent) -> Void = { _ in })
        async throws
        -> Int64
    {
        guard let remote else { throw LocatedError("--engine-url", "no remote engine given") }
        return try await run(store: store, generator: remote, concurrency: concurrency, progress: progress)
    }

    private func run(
        store: ResultStore, generator: any ResponseGenerator, concurrency: Int,
        progress: @escaping @Sendable (BenchRunEvent) -> Void
    ) async throws -> Int64 {
        try validate()
        let runner = BenchRunner(store: store, generator: generator, kernel: kernel, concurrency: concurrency)
        let runID = try await runner.run(spec, limit: limit, progress: progress)
        if benchmark == "gsm8k" {
            // As on import: GSM8K answers are scored by the three extraction rules right away.
            _ = try ScoringPass.run(
                GSM8KScorer.Rule.allCases.map { GSM8KScorer(rule: $0) }, store: store,
                benchmarks: ["gsm8k"], models: [spec.model])
        }
        return runID
    }
}
