/// One probe of a training run as the Train panel shows it: the mean score at a step and
/// each prompt's answer, read from a `probe` line of `train-log.jsonl`.
public struct TrainProbe: Hashable, Sendable {
    /// One prompt's answer and score.
    public struct Answer: Hashable, Sendable {
        public var id: String
        public var prompt: String
        public var answer: String
        public var score: Double?
        public var tokens: Int?

        /// Creates an answer.
        public init(id: String, prompt: String, answer: String, score: Double?, tokens: Int? = nil) {
            self.id = id
            self.prompt = prompt
            self.answer = answer
            self.score = score
            self.tokens = tokens
        }
    }

    public var step: Int
    /// The mean score; nil when the probe produced no answer.
    public var score: Double?
    /// The scorer's name (`lek-heuristic`).
    public var scorer: String?
    public var answers: [Answer]
    /// Why the probe failed or stopped early.
    public var error: String?
    public var seconds: Double?

    /// Creates a probe.
    public init(step: Int, score: Double?, scorer: String? = nil, answers: [Answer] = [], error: String? = nil, seconds: Double? = nil) {
        self.step = step
        self.score = score
        self.scorer = scorer
        self.answers = answers
        self.error = error
        self.seconds = seconds
    }

    /// The probe's score for a status line: `12.5@200`, or `failed@200`.
    public var summary: String {
        (score.map { Fmt.fixed($0, 2) } ?? "failed") + "@\(step)"
    }
}
