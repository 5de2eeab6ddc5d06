import Foundation
import LEMFormats

/// Measures a model's inference speed the way `lem bench-speed` reports it: prompt tokens/s,
/// time to first token and greedy generation tokens/s, over several runs.
///
/// Method (kept identical in `Scripts/bench_llamacpp.py` so the two engines compare fairly):
/// - the prompt is `promptIds(count:vocabSize:)`, a fixed cycle of ordinary ids (no tokenizer);
/// - prefill = forward passes over the prompt in chunks of `prefillChunk` tokens (one pass when
///   the prompt fits), asking only for the last row of logits; time to first token = prefill +
///   the argmax that picks the first generated token;
/// - generation = `genTokens` single-token forward passes, each followed by a greedy argmax whose
///   result is fed back; EOS is ignored, so every run decodes exactly `genTokens` tokens;
/// - every run starts from an empty KV cache; wall-clock time (`DispatchTime`), median over runs.
/// One untimed single-token pass first pages the memory-mapped weights in.
///
/// With `batch` B > 1, B sequences (the prompt formula started at offsets 0 ..< B, all of the
/// same length) are prefilled one after another, then advance together, one decode step of all
/// B per forward pass (`LanguageModel.decodeInPlace`); token counts and rates are summed over the
/// batch. With `prefixTokens` P > 0, the prompt is P + `promptTokens` ids and each run also times
/// the first token from the first P loaded out of a prompt-cache file written before the runs
/// (read, restored, the rest prefilled): `cachedFirstTokenSeconds`. With both, the B sequences
/// start with the same P tokens (a kernel, a rubric): the prefix is computed once and each
/// sequence is forked from its snapshot — sharing its rows in place, or copying them with
/// `copyPrefix` (the A/B) — then prefills its own `promptTokens`.
public struct SpeedBenchmark: Sendable {
    /// Prompt length in tokens.
    public var promptTokens: Int
    /// Decode steps per run.
    public var genTokens: Int
    /// Timed runs; the report gives the median.
    public var runs: Int
    /// Prompt tokens per prefill forward pass (llama.cpp's default batch is 512).
    public var prefillChunk: Int
    /// Whether to run one untimed token first, so the first run does not pay for page faults.
    public var warmup: Bool
    /// Sequences decoded together (1: the single-sequence loop).
    public var batch: Int
    /// Tokens before the prompt that a prompt-cache file holds for the cached measurement (0: none).
    public var prefixTokens: Int
    /// With a batch and a prefix: copy the prefix's rows into each sequence's cache instead of
    /// sharing them.
    public var copyPrefix = false

    /// Creates a benchmark with the given sizes.
    public init(
        promptTokens: Int = 128, genTokens: Int = 64, runs: Int = 3, prefillChunk: Int = 512, warmup: Bool = true,
        batch: Int = 1, prefixTokens: Int = 0
    ) {
        self.promptTokens = promptTokens
        self.genTokens = genTokens
        self.runs = runs
        self.prefillChunk = prefillChunk
        self.warmup = warmup
        self.batch = batch
        self.prefixTokens = prefixTokens
    }

    /// The benchmark prompt: `count` ids cycling through ordinary tokens.
    ///
    /// id(i) = base + (i · 37) mod span, base = min(100, V/4), span = min(V − base, 20000): it
    /// skips the low ids where vocabularies keep their special and byte tokens and varies from
    /// token to token. The Python comparison script uses the same formula.
    public static func promptIds(count: Int, vocabSize: Int) -> [Int] {
        let base = min(100, vocabSize / 4)
        let span = max(1, min(vocabSize - base, 20000))
        return (0..<max(0, count)).map { base + ($0 * 37) % span }
    }

    /// Checks the sizes against a model's context; returns a message naming the problem or nil.
    public func validationError(config: ModelConfig) -> String? {
        if promptTokens < 1 { return "prompt tokens must be at least 1 (got \(promptTokens))" }
        if genTokens < 0 { return "generation tokens must be >= 0 (got \(genTokens))" }
        if runs < 1 { return "runs must be at least 1 (got \(runs))" }
        if prefillChunk < 1 { return "prefill chunk must be at least 1 (got \(prefillChunk))" }
        if batch < 1 { return "batch must be at least 1 (got \(batch))" }
        if prefixTokens < 0 { return "prefix tokens must be >= 0 (got \(prefixTokens))" }
        if prefixTokens > 0, promptTokens < 2 {
            return "a cached prefix needs at least 2 prompt tokens after it (got \(promptTokens))"
        }
        let needed = prefixTokens + promptTokens + genTokens
        if needed > config.maxPositionEmbeddings {
            return
                "\(prefixTokens + promptTokens) prompt + \(genTokens) generated tokens exceed the model's context of \(config.maxPositionEmbeddings)"
        }
        return nil
    }

    /// Runs the benchmark on `model`, calling `onRun` after each timed run.
    ///
    /// Throws `GenerationError.badParameter` for sizes the model cannot take, and whatever the
    /// forward pass throws.
    public func run(model: any LanguageModel, onRun: (Int, SpeedRun) -> Void = { _, _ in }) throws -> [SpeedRun] {
        if let message = validationError(config: model.config) { throw GenerationError.badParameter(message) }
        let length = prefixTokens + promptTokens
        let all = Self.promptIds(count: length + batch - 1, vocabSize: model.config.vocabSize)
        // A batch after a prefix: one shared prefix, then each sequence's own prompt.
        let prompts = (0..<batch).map { b in
            prefixTokens > 0 && batch > 1
                ? Array(all[..<prefixTokens]) + all[(prefixTokens + b)..<(b + length)] : Array(all[b..<(b + length)])
        }
        if warmup {
            _ = try model.forwardInPlace(tokens: [prompts[0][0]], cache: model.makeCache(), logits: .last)
        }
        var cacheFile: URL?
        if prefixTokens > 0 {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
                "lem-bench-speed-\(getpid())-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let url = folder.appendingPathComponent("prefix.safetensors")
            let cache = model.makeCache()
            try prefill(model, Array(prompts[0][..<prefixTokens]), cache: cache)
            let snapshot = KVSnapshot(cache: cache, tokens: Array(prompts[0][..<prefixTokens]))
            try PromptCacheFile.write(snapshot, config: model.config, identity: [:], to: url)
            cacheFile = url
        }
        defer { if let cacheFile { try? FileManager.default.removeItem(at: cacheFile.deletingLastPathComponent()) } }
        var results: [SpeedRun] = []
        for index in 0..<runs {
            var result = try batch == 1 ? runOnce(model: model, prompt: prompts[0]) : runBatch(model, prompts)
            if let cacheFile {
                result.cachedFirstTokenSeconds = try cachedFirstToken(
                    model, file: cacheFile, rest: Array(prompts[0][prefixTokens...]))
            }
            results.append(result)
            onRun(index, result)
        }
        return results
    }

    /// Prefills `tokens` into `cache` in chunks of `prefillChunk`; returns the last logits.
    @discardableResult
    private func prefill(_ model: any LanguageModel, _ tokens: [Int], cache: KVCache) throws
        -> UnsafeBufferPointer<Float>
    {
        var logits = UnsafeBufferPointer<Float>(start: nil, count: 0)
        var offset = 0
        while offset < tokens.count {
            let end = min(offset + prefillChunk, tokens.count)
            logits = try model.forwardInPlace(tokens: Array(tokens[offset..<end]), cache: cache, logits: .last)
            offset = end
        }
        return logits
    }

    /// Seconds to the first token from the prefix in `file`: read, restore, prefill `rest`, argmax.
    private func cachedFirstToken(_ model: any LanguageModel, file: URL, rest: [Int]) throws -> Double {
        let start = DispatchTime.now()
        let contents = try PromptCacheFile.read(file, config: model.config)
        let snapshot = contents.snapshot
        let cache = snapshot.restore(length: snapshot.count, config: model.config)
        _ = Sampler.argmax(try prefill(model, rest, cache: cache))
        return Self.seconds(start, DispatchTime.now())
    }

    /// One run of `prompts.count` sequences: each prefilled in turn, then every decode step of all
    /// of them in one forward pass; the greedy ids of the first sequence are reported.
    private func runBatch(_ model: any LanguageModel, _ prompts: [[Int]]) throws -> SpeedRun {
        let start = DispatchTime.now()
        var caches: [KVCache] = []
        var next: [Int] = []
        var fork: KVSnapshot?
        if prefixTokens > 0 {
            let cache = model.makeCache()
            let prefix = Array(prompts[0][..<prefixTokens])
            try prefill(model, prefix, cache: cache)
            fork = KVSnapshot(cache: cache, tokens: prefix)
        }
        for prompt in prompts {
            let cache =
                fork?.restore(length: prefixTokens, config: model.config, sharing: !copyPrefix) ?? model.makeCache()
            next.append(Sampler.argmax(try prefill(model, Array(prompt[cache.count...]), cache: cache)))
            caches.append(cache)
        }
        let firstToken = DispatchTime.now()
        let workspace = Workspace()
        let v = model.config.vocabSize
        var generated: [Int] = []
        for _ in 0..<genTokens {
            let logits = try model.decodeInPlace(tokens: next, caches: caches, workspace: workspace)
            for b in next.indices {
                next[b] = Sampler.argmax(UnsafeBufferPointer(rebasing: logits[(b * v)..<((b + 1) * v)]))
            }
            generated.append(next[0])
        }
        let end = DispatchTime.now()
        return SpeedRun(
            promptTokens: prompts.count * prompts[0].count, prefillSeconds: Self.seconds(start, firstToken),
            firstTokenSeconds: Self.seconds(start, firstToken), generatedTokens: prompts.count * genTokens,
            generationSeconds: Self.seconds(firstToken, end), generatedIds: generated, batch: prompts.count)
    }

    private func runOnce(model: any LanguageModel, prompt: [Int]) throws -> SpeedRun {
        let cache = model.makeCache()
        let start = DispatchTime.now()
        // The logits stay in the cache's workspace (no copy per token).
        var logits = try prefill(model, prompt, cache: cache)
        let prefillDone = DispatchTime.now()
        var next = Sampler.argmax(logits)
        let firstToken = DispatchTime.now()
        var generated: [Int] = []
        generated.reserveCapacity(genTokens)
        var input = [next]  // (1) reused, so a decode step allocates no token array
        for _ in 0..<genTokens {
            input[0] = next
            logits = try model.forwardInPlace(tokens: input, cache: cache, logits: .last)
            next = Sampler.argmax(logits)
            generated.append(next)
        }
        let end = DispatchTime.now()
        return SpeedRun(
            promptTokens: prompt.count, prefillSeconds: Self.seconds(start, prefillDone),
            firstTokenSeconds: Self.seconds(start, firstToken), generatedTokens: generated.count,
            generationSeconds: Self.seconds(firstToken, end), generatedIds: generated)
    }

    static func seconds(_ from: DispatchTime, _ to: DispatchTime) -> Double {
        Double(to.uptimeNanoseconds - from.uptimeNanoseconds) / 1e9
    }
}

/// One timed run of `SpeedBenchmark`.
public struct SpeedRun: Sendable, Equatable {
    /// Tokens in the prompt.
    public var promptTokens: Int
    /// Wall-clock seconds of the prefill forward passes.
    public var prefillSeconds: Double
    /// Seconds from the start to the first generated token (prefill + its argmax).
    public var firstTokenSeconds: Double
    /// Single-token decode steps run.
    public var generatedTokens: Int
    /// Wall-clock seconds of all decode steps.
    public var generationSeconds: Double
    /// The greedy ids generated (first token excluded: it comes from the prefill); of the first
    /// sequence in a batch.
    public var generatedIds: [Int]
    /// Sequences decoded together; `promptTokens` and `generatedTokens` are summed over them.
    public var batch: Int = 1
    /// Seconds to the first token when the prefix comes from a prompt-cache file, nil when not measured.
    public var cachedFirstTokenSeconds: Double?

    /// A run's measurements.
    public init(
        promptTokens: Int, prefillSeconds: Double, firstTokenSeconds: Double, generatedTokens: Int,
        generationSeconds: Double, generatedIds: [Int], batch: Int = 1, cachedFirstTokenSeconds: Double? = nil
    ) {
        self.promptTokens = promptTokens
        self.prefillSeconds = prefillSeconds
        self.firstTokenSeconds = firstTokenSeconds
        self.generatedTokens = generatedTokens
        self.generationSeconds = generationSeconds
        self.generatedIds = generatedIds
        self.batch = batch
        self.cachedFirstTokenSeconds = cachedFirstTokenSeconds
    }

    /// Prompt tokens per second of prefill.
    public var promptTokensPerSecond: Double { prefillSeconds > 0 ? Double(promptTokens) / prefillSeconds : 0 }
    /// Generated tokens per second of decode.
    public var generationTokensPerSecond: Double {
        generationSeconds > 0 ? Double(generatedTokens) / generationSeconds : 0
    }
    /// Time to first token in milliseconds.
    public var timeToFirstTokenMs: Double { firstTokenSeconds * 1000 }
    /// Time to first token from the cached prefix in milliseconds, nil when not measured.
    public var cachedTimeToFirstTokenMs: Double? { cachedFirstTokenSeconds.map { $0 * 1000 } }
}
