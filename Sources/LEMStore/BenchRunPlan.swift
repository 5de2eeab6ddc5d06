import Foundation
import LEMEngine
import LEMScoring

/// Everything `lem bench run` (or the Bench panel) needs to start or resume a run: which model,
/// which benchmark, how many items, kernel mode and sampling overrides.
public struct BenchRunPlan: Sendable {
    /// The `.gguf` file or model folder.
    public var modelURL: URL
    /// The name stored for the model; default `defaultModelName(...)`.
    public var modelName: String?
    /// A LoRA/DoRA adapter folder (mlx_lm or PEFT), if any.
    public var adapterURL: URL?
    /// Multiplier of the adapter's own scale (1 = as trained).
    public var adapterScale: Float
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

    /// Creates a plan.
    public init(modelURL: URL, modelName: String? = nil, adapterURL: URL? = nil, adapterScale: Float = 1,
                benchmark: String, limit: Int? = nil,
                kernelMode: KernelMode = .none, kernel: EthicsKernel? = nil, maxTokens: Int? = nil, seed: UInt64 = 0) {
        self.modelURL = modelURL
        self.modelName = modelName
        self.adapterURL = adapterURL
        self.adapterScale = adapterScale
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
    public static func defaultModelName(modelURL: URL, adapterURL: URL?, kernelMode: KernelMode = .none) -> String {
        var name = modelURL.lastPathComponent
        if name.hasSuffix(".gguf") { name = String(name.dropLast(5)) }
        if let adapterURL { name += "+" + adapterURL.standardizedFileURL.lastPathComponent }
        if kernelMode != .none { name += "+" + kernelMode.rawValue }
        return name
    }

    /// The run's identity: model name, benchmark, adapter, the LEM sampling settings, kernel.
    public var spec: RunSpec {
        RunSpec(model: modelName ?? Self.defaultModelName(modelURL: modelURL, adapterURL: adapterURL, kernelMode: kernelMode),
                benchmark: benchmark,
                adapter: adapterURL.map { $0.standardizedFileURL.path + (adapterScale == 1 ? "" : " ×\(adapterScale)") },
                sampling: BenchPrompt.sampling(for: benchmark, maxTokens: maxTokens, seed: seed),
                kernelMode: kernelMode, kernel: kernelMode == .none ? nil : kernel?.fingerprint)
    }

    /// Sets the kernel mode by name (`none`, `system`, `sandwich`), loading the kernel from
    /// `directory` (kernel.md + axioms.json) when the mode needs it.
    public mutating func setKernelMode(named name: String, directory: URL?) throws {
        guard let mode = KernelMode(rawValue: name) else {
            throw StoreError("kernel mode `\(name)`", "expected none, system or sandwich")
        }
        kernelMode = mode
        if mode != .none, kernel == nil, let directory { kernel = try EthicsKernel.load(directory: directory) }
    }

    /// Checks what can be checked before loading a model.
    public func validate() throws {
        if kernelMode != .none, kernel == nil {
            throw StoreError("--kernel \(kernelMode.rawValue)", "needs the kernel files (kernel/kernel.md and axioms.json)")
        }
        if let maxTokens, maxTokens < 1 { throw StoreError("--max-tokens", "must be at least 1") }
        if let limit, limit < 1 { throw StoreError("--limit", "must be at least 1") }
    }

    /// Loads the model once, to run with `options`, with the LoRA/DoRA adapter applied unfused
    /// when one is given.
    public func loadModel(options: EngineOptions = EngineOptions()) throws -> LocalChatModel {
        guard let adapterURL else { return try LocalChatModel(url: modelURL, options: options) }
        guard adapterScale.isFinite else { throw StoreError("--adapter-scale", "must be a finite number") }
        let model = try ModelFactory.load(
            modelURL, adapterFolder: adapterURL, adapterScale: adapterScale, options: options)
        return try LocalChatModel(model: model, tokenizerURL: modelURL,
                                  name: modelURL.lastPathComponent + "+" + adapterURL.standardizedFileURL.lastPathComponent)
    }

    /// Runs or resumes the plan on a loaded model, committing each answer as it arrives.
    @discardableResult
    public func run(store: ResultStore, model: LocalChatModel,
                    progress: @escaping @Sendable (BenchRunEvent) -> Void = { _ in }) async throws -> Int64 {
        try validate()
        let runner = BenchRunner(store: store, generator: EngineResponseGenerator(model: model), kernel: kernel)
        let runID = try await runner.run(spec, limit: limit, progress: progress)
        if benchmark == "gsm8k" {
            // As on import: GSM8K answers are scored by the three extraction rules right away.
            _ = try ScoringPass.run(GSM8KScorer.Rule.allCases.map { GSM8KScorer(rule: $0) }, store: store,
                                    benchmarks: ["gsm8k"], models: [spec.model])
        }
        return runID
    }
}
