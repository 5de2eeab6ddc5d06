/// One number a scorer assigns to one response on one named dimension.
///
/// `value` is nil when the scorer could not score (an unparseable judge reply, a missing
/// reference); `detail` carries what a reader needs to audit the number (the extracted answer,
/// matched spans as text, the judge's reasoning).
public struct DimensionScore: Sendable, Equatable, Codable {
    /// The dimension's name, e.g. `correct`, `engagement_depth`, `truthfulness`.
    public var dimension: String
    /// The value, or nil when unscored.
    public var value: Double?
    /// Free-form explanation or evidence for the value.
    public var detail: String?

    /// Creates a score for one dimension.
    public init(_ dimension: String, _ value: Double?, detail: String? = nil) {
        self.dimension = dimension
        self.value = value
        self.detail = detail
    }
}

/// What a scorer sees of one benchmark item: the prompt, the response and the item's reference
/// fields (the benchmark file's own keys, e.g. `correct_answer`, `answer_cot`, `best_answer`).
public struct ScoringInput: Sendable {
    /// The prompt the model was given.
    public var prompt: String
    /// The model's response.
    public var response: String
    /// The benchmark item's reference fields as strings.
    public var reference: [String: String]

    /// Creates an input from prompt, response and reference fields.
    public init(prompt: String, response: String, reference: [String: String] = [:]) {
        self.prompt = prompt
        self.response = response
        self.reference = reference
    }
}

/// A named, versioned scorer that runs without a model: a pure function of text.
public protocol TextScorer: Sendable {
    /// The scorer's stable name, stored with every score (e.g. `gsm8k-lem`).
    var name: String { get }
    /// The version of the scorer's rules; bump when a definition changes.
    var version: String { get }
    /// The benchmarks whose answers the scorer is made for; nil: any benchmark's. A scoring
    /// pass skips the others (GSM8K's exact-match rules mean nothing on a TruthfulQA answer).
    var benchmarks: Set<String>? { get }
    /// Scores one response; every dimension the scorer defines is present in the result.
    func score(_ input: ScoringInput) -> [DimensionScore]
    /// The dimension that sums the scorer up in a one-line report (default: its first).
    var headlineDimension: String? { get }
}

extension TextScorer {
    /// Any benchmark, unless the scorer says otherwise.
    public var benchmarks: Set<String>? { nil }

    /// The first dimension, unless the scorer names another.
    public var headlineDimension: String? { nil }

    /// The headline dimension's value for one response.
    public func headline(_ input: ScoringInput) -> Double? {
        let scores = score(input)
        return (scores.first { $0.dimension == headlineDimension } ?? scores.first)?.value
    }

    /// Whether the scorer is made for answers of `benchmark`.
    public func applies(to benchmark: String) -> Bool { benchmarks?.contains(benchmark) ?? true }
}
