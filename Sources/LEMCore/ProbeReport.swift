/// One training probe: a few fixed prompts answered with a checkpoint and scored, as a
/// `probe` line of `train-log.jsonl` records it and the Train panel shows it.
public struct ProbeReport: Sendable, Hashable {
    /// One prompt answered and scored.
    public struct Answer: Sendable, Hashable {
        /// The prompt's id (`P01`, or the line number of a prompts file).
        public var id: String
        public var prompt: String
        /// The generated text (greedy, trimmed).
        public var answer: String
        /// The scorer's composite for `answer` (nil in a log that gave none).
        public var score: Double?
        /// Generated tokens, the stopping EOS not counted (nil in a log that gave none).
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

    /// Optimizer iterations completed when the probe ran (0: before training).
    public var step: Int
    /// The scorer's name (`lek-heuristic`).
    public var scorer: String?
    public var answers: [Answer]
    /// Wall time of the probe (model build, generation, scoring).
    public var seconds: Double?
    /// Why the probe failed or stopped early; nil when every prompt was answered.
    public var error: String?

    /// Creates a report.
    public init(step: Int, scorer: String?, answers: [Answer], seconds: Double? = nil, error: String? = nil) {
        self.step = step
        self.scorer = scorer
        self.answers = answers
        self.seconds = seconds
        self.error = error
    }

    /// The mean of the answers' scores; nil when no answer has one.
    public var meanScore: Double? {
        let scores = answers.compactMap(\.score)
        return scores.isEmpty ? nil : scores.reduce(0, +) / Double(scores.count)
    }
}
