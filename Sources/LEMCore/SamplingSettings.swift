/// How tokens are chosen and how many: the one sampling value of chat, benchmark runs, judges
/// and the CLI.
///
/// Applied in transformers' order: repetition penalty, then (unless greedy) temperature, top-k,
/// top-p, min-p and a draw from the renormalized distribution. A run stores these settings as
/// JSON (`encodedJSON`), and that text is part of the run's identity, so the encoding keeps the
/// keys it has always had and leaves out `repetitionWindow` at 0 and `seed` when unset.
public struct SamplingSettings: Hashable, Sendable, Codable {
    /// Softmax temperature; 0 (or less) is greedy.
    public var temperature: Double
    /// Nucleus threshold; 1 disables.
    public var topP: Double
    /// Keep the K most likely tokens; 0 disables.
    public var topK: Int
    /// Drop tokens below `minP` × the top probability; 0 disables.
    public var minP: Double
    /// CTRL-style penalty on tokens already in the context; 1 disables.
    public var repetitionPenalty: Double
    /// How many recent context tokens the penalty looks at; 0: all of them.
    public var repetitionWindow: Int
    /// The most new tokens.
    public var maxTokens: Int
    /// Seed of the random generator; nil: a fresh seed per generation.
    public var seed: UInt64?

    /// Creates settings; the defaults are greedy decoding of up to 512 tokens with seed 0.
    public init(
        temperature: Double = 0, topP: Double = 1, topK: Int = 0, minP: Double = 0, repetitionPenalty: Double = 1,
        repetitionWindow: Int = 0, maxTokens: Int = 512, seed: UInt64? = 0
    ) {
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.repetitionWindow = repetitionWindow
        self.maxTokens = maxTokens
        self.seed = seed
    }

    /// Greedy decoding, seed 0.
    public static let greedy = SamplingSettings()

    /// The Chat panel's starting point: temperature 0.7, top-p 0.9, top-k 40, 512 tokens, a fresh
    /// seed per answer.
    public static let chat = SamplingSettings(temperature: 0.7, topP: 0.9, topK: 40, seed: nil)

    /// Whether the highest logit is always taken.
    public var isGreedy: Bool { temperature <= 0 }

    /// Checks the ranges, returning a message naming the bad setting (nil when all are valid).
    public func validationError() -> String? {
        if !temperature.isFinite { return "temperature must be finite" }
        if topK < 0 { return "top-k must be >= 0, got \(topK)" }
        if !(topP > 0 && topP <= 1) { return "top-p must be in (0, 1], got \(topP)" }
        if !(minP >= 0 && minP < 1) { return "min-p must be in [0, 1), got \(minP)" }
        if !(repetitionPenalty > 0) || !repetitionPenalty.isFinite {
            return "repetition penalty must be > 0, got \(repetitionPenalty)"
        }
        if repetitionWindow < 0 { return "repetition window must be >= 0" }
        if maxTokens < 0 { return "max tokens must be >= 0, got \(maxTokens)" }
        return nil
    }

    private enum CodingKeys: String, CodingKey {
        case temperature, topP, topK, minP, repetitionPenalty, repetitionWindow, maxTokens, seed
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SamplingSettings(seed: nil)
        temperature = try c.decodeIfPresent(Double.self, forKey: .temperature) ?? d.temperature
        topP = try c.decodeIfPresent(Double.self, forKey: .topP) ?? d.topP
        topK = try c.decodeIfPresent(Int.self, forKey: .topK) ?? d.topK
        minP = try c.decodeIfPresent(Double.self, forKey: .minP) ?? d.minP
        repetitionPenalty = try c.decodeIfPresent(Double.self, forKey: .repetitionPenalty) ?? d.repetitionPenalty
        repetitionWindow = try c.decodeIfPresent(Int.self, forKey: .repetitionWindow) ?? d.repetitionWindow
        maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens) ?? d.maxTokens
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(temperature, forKey: .temperature)
        try c.encode(topP, forKey: .topP)
        try c.encode(topK, forKey: .topK)
        try c.encode(minP, forKey: .minP)
        try c.encode(repetitionPenalty, forKey: .repetitionPenalty)
        if repetitionWindow != 0 { try c.encode(repetitionWindow, forKey: .repetitionWindow) }
        try c.encode(maxTokens, forKey: .maxTokens)
        try c.encodeIfPresent(seed, forKey: .seed)
    }
}
