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

    /// Creates a benchmark with the given sizes.
    public init(
        promptTokens: Int = 128, genTokens: Int = 64, runs: Int = 3, prefillChunk: Int = 512, warmup: Bool = true
    ) {
        self.promptTokens = promptTokens
        self.genTokens = genTokens
        self.runs = runs
        self.prefillChunk = prefillChunk
        self.warmup = warmup
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
        let needed = promptTokens + genTokens
        if needed > config.maxPositionEmbeddings {
            return
                "\(promptTokens) prompt + \(genTokens) generated tokens exceed the model's context of \(config.maxPositionEmbeddings)"
        }
        return nil
    }

    /// Runs the benchmark on `model`, calling `onRun` after each timed run.
    ///
    /// Throws `GenerationError.badParameter` for sizes the model cannot take, and whatever the
    /// forward pass throws.
    public func run(model: any LanguageModel, onRun: (Int, SpeedRun) -> Void = { _, _ in }) throws -> [SpeedRun] {
        if let message = validationError(config: model.config) { throw GenerationError.badParameter(message) }
        let prompt = Self.promptIds(count: promptTokens, vocabSize: model.config.vocabSize)
        if warmup {
            _ = try model.forwardInPlace(tokens: [prompt[0]], cache: model.makeCache(), logits: .last)
        }
        var results: [SpeedRun] = []
        for index in 0..<runs {
            let result = try runOnce(model: model, prompt: prompt)
            results.append(result)
            onRun(index, result)
        }
        return results
    }

    private func runOnce(model: any LanguageModel, prompt: [Int]) throws -> SpeedRun {
        let cache = model.makeCache()
        let start = DispatchTime.now()
        // The logits stay in the cache's workspace (no copy per token).
        var logits = UnsafeBufferPointer<Float>(start: nil, count: 0)
        var offset = 0
        while offset < prompt.count {
            let end = min(offset + prefillChunk, prompt.count)
            logits = try model.forwardInPlace(tokens: Array(prompt[offset..<end]), cache: cache, logits: .last)
            offset = end
        }
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
    /// The greedy ids generated (first token excluded: it comes from the prefill).
    public var generatedIds: [Int]

    /// Prompt tokens per second of prefill.
    public var promptTokensPerSecond: Double { prefillSeconds > 0 ? Double(promptTokens) / prefillSeconds : 0 }
    /// Generated tokens per second of decode.
    public var generationTokensPerSecond: Double {
        generationSeconds > 0 ? Double(generatedTokens) / generationSeconds : 0
    }
    /// Time to first token in milliseconds.
    public var timeToFirstTokenMs: Double { firstTokenSeconds * 1000 }
}
