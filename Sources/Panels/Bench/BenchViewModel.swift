/// One prompt's results across runs.
public struct BenchPromptResult: Hashable, Sendable {
    public var id: String
    public var benchmark: String
    public var prompt: String
    /// Per run (same order as `BenchViewModel.runs`); "" when the run lacks this prompt.
    public var answers: [String]
    public var scores: [Double?]
    public var reasoning: [String]
    /// Per run: substrings of the answer to highlight (e.g. what a judge quoted).
    public var highlights: [[String]]

    /// Creates a prompt result.
    public init(id: String, benchmark: String, prompt: String, answers: [String], scores: [Double?], reasoning: [String] = [], highlights: [[String]] = []) {
        self.id = id
        self.benchmark = benchmark
        self.prompt = prompt
        self.answers = answers
        self.scores = scores
        self.reasoning = reasoning
        self.highlights = highlights
    }

    /// The score of `run`, if any.
    public func score(_ run: Int) -> Double? { run < scores.count ? scores[run] : nil }
}

/// Everything the bench panel shows: runs × benchmarks means and the per-prompt results.
public struct BenchViewModel: Hashable, Sendable {
    public var runs: [String] = []
    public var benchmarks: [String] = []
    /// (runs, benchmarks) mean scores; nil where a run lacks a benchmark.
    public var means: [[Double?]] = []
    public var baseline = 0
    public var prompts: [BenchPromptResult] = []

    /// Creates an empty model.
    public init() {}

    /// Creates a model with means computed from the prompt results.
    public init(runs: [String], prompts: [BenchPromptResult], baseline: Int = 0) {
        self.runs = runs
        self.prompts = prompts
        self.baseline = baseline
        var names: [String] = []
        for p in prompts where !names.contains(p.benchmark) { names.append(p.benchmark) }
        benchmarks = names
        means = runs.indices.map { r in
            names.map { b in
                let s = prompts.filter { $0.benchmark == b }.compactMap { $0.score(r) }
                return s.isEmpty ? nil : s.reduce(0, +) / Double(s.count)
            }
        }
    }

    /// The mean of `run` on benchmark `b`.
    public func mean(_ run: Int, _ b: Int) -> Double? {
        run < means.count && b < means[run].count ? means[run][b] : nil
    }

    /// `mean(run, b) - mean(baseline, b)`, nil when either is missing.
    public func delta(_ run: Int, _ b: Int) -> Double? {
        guard let m = mean(run, b), let base = mean(baseline, b) else { return nil }
        return m - base
    }
}
