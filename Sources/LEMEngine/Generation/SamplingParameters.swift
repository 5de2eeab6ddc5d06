/// How the next token is chosen from the logits.
///
/// Applied in transformers' order: repetition penalty, then (unless greedy) temperature,
/// top-k, top-p, min-p, and a draw from the renormalized distribution.
public struct SamplingParameters: Sendable, Equatable {
    /// 0 (or less) means greedy: always the highest logit.
    public var temperature: Float
    /// Keep only the `topK` most likely tokens; 0 disables.
    public var topK: Int
    /// Keep the smallest set of most likely tokens whose probability reaches `topP`; 1 disables.
    public var topP: Float
    /// Drop tokens less likely than `minP` × the top probability; 0 disables.
    public var minP: Float
    /// CTRL-style penalty on tokens already in the context (positive logits divided, negative
    /// multiplied); 1 disables.
    public var repetitionPenalty: Float
    /// How many of the most recent context tokens the penalty looks at; 0 means all of them.
    public var repetitionWindow: Int
    /// Seed of the random generator, so a run can be repeated exactly.
    public var seed: UInt64

    /// Creates sampling settings; the defaults are greedy decoding.
    public init(
        temperature: Float = 0, topK: Int = 0, topP: Float = 1, minP: Float = 0,
        repetitionPenalty: Float = 1, repetitionWindow: Int = 0, seed: UInt64 = 0
    ) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.repetitionWindow = repetitionWindow
        self.seed = seed
    }

    /// Greedy decoding.
    public static let greedy = SamplingParameters()

    /// Checks the ranges, returning a message naming the bad setting.
    public func validationError() -> String? {
        if !temperature.isFinite { return "temperature must be finite" }
        if topK < 0 { return "top-k must be >= 0, got \(topK)" }
        if !(topP > 0 && topP <= 1) { return "top-p must be in (0, 1], got \(topP)" }
        if !(minP >= 0 && minP < 1) { return "min-p must be in [0, 1), got \(minP)" }
        if !(repetitionPenalty > 0) || !repetitionPenalty.isFinite { return "repetition penalty must be > 0, got \(repetitionPenalty)" }
        if repetitionWindow < 0 { return "repetition window must be >= 0" }
        return nil
    }
}
