/// Why a generation ended.
public enum StopReason: Sendable, Equatable {
    /// The model produced one of the end-of-sequence ids.
    case endOfSequence(id: Int)
    /// The text produced a stop string (which is not emitted).
    case stopString(String)
    /// `maxTokens` tokens were generated.
    case maxTokens
    /// `cancel()` was called.
    case cancelled
}

/// Counts and timings of one generation.
public struct GenerationStats: Sendable, Equatable {
    /// Prompt tokens run through the model.
    public var promptTokens: Int
    /// Tokens sampled (the end-of-sequence token included when it stopped the run).
    public var generatedTokens: Int
    /// Wall time of the prompt prefill.
    public var promptSeconds: Double
    /// Wall time from the first sampled token to the end.
    public var generationSeconds: Double
    /// Why the run ended.
    public var stopReason: StopReason
    /// Prompt tokens restored from the prefix cache rather than computed.
    public var reusedTokens: Int = 0

    /// Stats with every field given.
    public init(
        promptTokens: Int, generatedTokens: Int, promptSeconds: Double, generationSeconds: Double,
        stopReason: StopReason, reusedTokens: Int = 0
    ) {
        self.reusedTokens = reusedTokens
        self.promptTokens = promptTokens
        self.generatedTokens = generatedTokens
        self.promptSeconds = promptSeconds
        self.generationSeconds = generationSeconds
        self.stopReason = stopReason
    }

    /// Prompt tokens computed by the prefill (`promptTokens − reusedTokens`).
    public var computedPromptTokens: Int { promptTokens - reusedTokens }

    /// Prompt tokens computed per second of prefill.
    public var promptTokensPerSecond: Double {
        promptSeconds > 0 ? Double(computedPromptTokens) / promptSeconds : 0
    }
    /// Generated tokens per second (each needs one decode step after the first).
    public var generationTokensPerSecond: Double {
        generationSeconds > 0 ? Double(generatedTokens) / generationSeconds : 0
    }

    /// A one-line human summary, e.g. for stderr.
    public var summary: String {
        let p = String(format: "%.1f", promptTokensPerSecond)
        let g = String(format: "%.1f", generationTokensPerSecond)
        let reused = reusedTokens > 0 ? " (\(reusedTokens) reused)" : ""
        return
            "prompt: \(promptTokens) tokens\(reused), \(p) tok/s; generated: \(generatedTokens) tokens, \(g) tok/s; stop: \(stopReason)"
    }
}

/// What a running generation reports, in order: `.promptProcessed`, any number of `.token`,
/// then exactly one of `.finished` or `.failed`.
public enum GenerationEvent: Sendable {
    /// The prompt has been prefilled.
    case promptProcessed(tokens: Int, seconds: Double)
    /// A sampled token and the text it released (may be empty while a multi-byte character or a
    /// possible stop string is still incomplete).
    case token(id: Int, text: String)
    /// The run ended normally (including by cancellation).
    case finished(GenerationStats)
    /// The run stopped on an error.
    case failed(any Error)
}

/// Turns generated ids into text incrementally (the tokenizer's streaming detokenizer conforms).
public protocol StreamingTextDecoder {
    /// Adds one id and returns the text it completes (possibly empty).
    mutating func push(_ id: Int) -> String
    /// Returns any text still held back at the end.
    mutating func finish() -> String
}
