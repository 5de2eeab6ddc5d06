import Foundation

/// The scores of one curriculum evaluation: a phase's adapter (or the model the curriculum starts
/// from) answered a benchmark subset and the answers were scored, as a `phase_eval` line of the
/// combined `train-log.jsonl` records it and the Train panel's phase table shows it.
public struct PhaseEvalReport: Sendable, Hashable {
    /// One scorer's headline over the evaluated answers.
    public struct Score: Sendable, Hashable {
        /// The scorer's name (`lek-heuristic`, `gsm8k-lem`).
        public var scorer: String
        /// The dimension averaged (the scorer's headline: `lek_score`, `correct`); nil when the
        /// log did not say.
        public var dimension: String?
        /// The mean over the answers that have a value; nil when none has one.
        public var mean: Double?
        /// The answers that have a value.
        public var count: Int

        /// Creates a score.
        public init(scorer: String, dimension: String?, mean: Double?, count: Int) {
            self.scorer = scorer
            self.dimension = dimension
            self.mean = mean
            self.count = count
        }
    }

    /// The scores in a line: `lek-heuristic.lek_score 5.125 (8 answers), authority.… none (0 answers)`.
    public var scoresLine: String {
        scores.map { s in
            let mean = s.mean.map { String(format: "%.3f", $0) } ?? "none"
            return s.scorer + (s.dimension.map { "." + $0 } ?? "") + " \(mean) (\(s.count) answers)"
        }.joined(separator: ", ")
    }

    /// The combined log's step when the evaluated weights were final: the iterations of the
    /// phase and the earlier ones (0 for the starting model).
    public var step: Int
    /// The phase's place in the curriculum (0-based); nil for the model the curriculum starts
    /// from (evaluated before phase 1).
    public var phase: Int?
    /// The phase's name (`base` for the starting model).
    public var name: String
    /// The model name of the run in the results store (`p0-ethics@1a2b3c4d5e6f`).
    public var run: String
    /// The benchmark's stored name.
    public var benchmark: String
    /// Answers in the run.
    public var answers: Int
    /// One headline per scorer that applies to the benchmark, in the `eval:` block's order.
    public var scores: [Score]

    /// The name the starting model's row carries.
    public static let baseName = "base"

    /// Creates a report.
    public init(
        step: Int, phase: Int?, name: String, run: String, benchmark: String, answers: Int, scores: [Score]
    ) {
        self.step = step
        self.phase = phase
        self.name = name
        self.run = run
        self.benchmark = benchmark
        self.answers = answers
        self.scores = scores
    }
}
