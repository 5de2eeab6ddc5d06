import Foundation

/// Something a training run asks, between iterations, how good its adapter is so far: it
/// answers a few fixed prompts with the base model plus a saved adapter and scores the answers.
///
/// LEMTrainer only schedules probes; the implementation (which needs the inference engine and
/// the scorers) lives above it and is handed in through `LoRATraining.Options.probe`. A probe
/// runs on the training thread, so the run waits for it; it should poll `isCancelled` between
/// tokens so that a stop request is honoured promptly.
public protocol TrainingProbe: Sendable {
    /// Probe after every `every`-th checkpoint save (1: after each save).
    var every: Int { get }

    /// Answers and scores the probe prompts with the adapter at `checkpoint` (a checkpoint file
    /// just written by the run), or with the run's starting weights when `checkpoint` is nil
    /// (the step-0 baseline). A thrown error becomes a probe report carrying the message.
    func probe(step: Int, checkpoint: URL?, isCancelled: @Sendable () -> Bool) throws -> ProbeReport
}

/// The result of one probe: every prompt's answer and score, their mean, or why it failed.
public struct ProbeReport: Sendable, Equatable {
    /// One probe prompt answered and scored.
    public struct Answer: Sendable, Equatable {
        /// The prompt's id (`P01`, or the line number of a prompts file).
        public var id: String
        public var prompt: String
        /// The generated text (greedy, trimmed).
        public var answer: String
        /// The scorer's composite for `answer`.
        public var score: Double
        /// Generated tokens (the stopping EOS not counted).
        public var tokens: Int

        /// Creates an answer.
        public init(id: String, prompt: String, answer: String, score: Double, tokens: Int) {
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
    public var scorer: String
    public var answers: [Answer]
    /// Wall time of the probe (model build, generation, scoring).
    public var seconds: Double
    /// Why the probe failed or stopped early; nil when every prompt was answered.
    public var error: String?

    /// Creates a report.
    public init(step: Int, scorer: String, answers: [Answer], seconds: Double, error: String? = nil) {
        self.step = step
        self.scorer = scorer
        self.answers = answers
        self.seconds = seconds
        self.error = error
    }

    /// The mean score over the answers; NaN when there are none.
    public var meanScore: Double {
        answers.isEmpty ? .nan : answers.reduce(0) { $0 + $1.score } / Double(answers.count)
    }
}
