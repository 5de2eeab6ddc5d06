/// One stored score of one answer: which scorer and dimension, the value (nil when unscored or
/// failed) and the judge's reasoning or the scorer's evidence.
public struct BenchScoreDetail: Hashable, Sendable {
    public var scorer: String
    public var dimension: String
    public var value: Double?
    /// `scored`, `unscored` or `failed`.
    public var status: String
    public var reasoning: String

    /// Creates a score detail.
    public init(scorer: String, dimension: String, value: Double?, status: String = "scored", reasoning: String = "") {
        self.scorer = scorer
        self.dimension = dimension
        self.value = value
        self.status = status
        self.reasoning = reasoning
    }

    /// `scorer/dimension`, the name used in filters.
    public var key: String { "\(scorer)/\(dimension)" }
}

/// One prompt's results across runs.
public struct BenchPromptResult: Hashable, Sendable {
    public var id: String
    public var benchmark: String
    public var prompt: String
    /// Per run (same order as `BenchViewModel.runs`); "" when the run lacks this prompt.
    public var answers: [String]
    /// Per run: the benchmark's headline score (nil when missing).
    public var scores: [Double?]
    public var reasoning: [String]
    /// Per run: substrings of the answer to highlight (pattern-scorer matches, judge quotes).
    public var highlights: [[String]]
    /// Per run: every stored score of the answer.
    public var details: [[BenchScoreDetail]]

    /// Creates a prompt result.
    public init(
        id: String, benchmark: String, prompt: String, answers: [String], scores: [Double?], reasoning: [String] = [],
        highlights: [[String]] = [], details: [[BenchScoreDetail]] = []
    ) {
        self.id = id
        self.benchmark = benchmark
        self.prompt = prompt
        self.answers = answers
        self.scores = scores
        self.reasoning = reasoning
        self.highlights = highlights
        self.details = details
    }

    /// The headline score of `run`, if any.
    public func score(_ run: Int) -> Double? { run < scores.count ? scores[run] : nil }

    /// Whether `run` answered this prompt.
    public func hasAnswer(_ run: Int) -> Bool { run < answers.count && !answers[run].isEmpty }

    /// The value of a `scorer/dimension` (or a bare dimension or scorer name) for `run`.
    public func value(_ run: Int, metric: String?) -> Double? {
        guard let metric, !metric.isEmpty else { return score(run) }
        guard run < details.count else { return nil }
        let m = metric.lowercased()
        return details[run].first { $0.key.lowercased() == m && $0.value != nil }?.value
            ?? details[run].first {
                ($0.dimension.lowercased() == m || $0.scorer.lowercased() == m) && $0.value != nil
            }?.value
    }
}

/// A benchmark run or scoring pass started from the panel: what it is and how far it got.
public struct BenchActivity: Hashable, Sendable {
    /// What is running, e.g. `run gsm8k · SmolLM2`.
    public var title: String
    /// The progress line (`[3/10] 0.20 items/s, ETA 35s`) or the final result.
    public var line: String
    /// Done fraction, nil when unknown.
    public var fraction: Double?
    /// Whether the work is still going.
    public var running: Bool
    /// Whether it ended in an error (the line says which).
    public var failed: Bool
    /// A caution shown under the line while the job runs and after it ends (a judge model too
    /// small to be trusted).
    public var warning: String?

    /// Creates an activity.
    public init(
        title: String, line: String, fraction: Double? = nil, running: Bool = true, failed: Bool = false,
        warning: String? = nil
    ) {
        self.title = title
        self.line = line
        self.fraction = fraction
        self.running = running
        self.failed = failed
        self.warning = warning
    }
}

/// One column of the summary: a benchmark's dimension, from its label `benchmark dimension`
/// (`gsm8k accuracy`). Accuracy (GSM8K's `correct`) is a percentage; other dimensions are scores.
public struct BenchColumn: Hashable, Sendable {
    public var benchmark: String
    public var dimension: String

    /// The column a summary label names; a label without a dimension is the benchmark's mean.
    public init(label: String) {
        let parts = label.split(separator: " ", maxSplits: 1).map(String.init)
        benchmark = parts.first ?? ""
        dimension = parts.count > 1 ? parts[1] : "mean"
    }

    /// Whether values are percentages: shown with `%`, differences in percentage points.
    public var isPercent: Bool { dimension == "accuracy" }
}

/// Everything the bench panel shows: runs × benchmarks means and the per-prompt results.
public struct BenchViewModel: Hashable, Sendable {
    /// Model (run) names, in display order.
    public internal(set) var runs: [String] = []
    /// Column labels of the summary, e.g. `gsm8k accuracy` (benchmark names when built from prompts).
    public internal(set) var benchmarks: [String] = []
    /// (runs, benchmarks) mean scores; nil where a run lacks a benchmark.
    public internal(set) var means: [[Double?]] = []
    /// (runs, benchmarks) number of scored answers behind each mean; empty when unknown.
    public internal(set) var counts: [[Int]] = []
    public internal(set) var baseline = 0
    public internal(set) var prompts: [BenchPromptResult] = []
    /// Where the data comes from (`store ~/.local/share/lem/lem.sqlite`), shown in the title.
    public internal(set) var source = ""
    /// A message instead of data (loading, an error, how to get results).
    public internal(set) var notice: String?
    /// The latest run or scoring pass started from the panel.
    public internal(set) var activity: BenchActivity?
    /// Benchmarks that can be run from the panel (stored items), for the run form's hint.
    public internal(set) var runnable: [String] = []
    /// Local judge models offered by the judge form (paths, the workbench's model first).
    public internal(set) var judgeModels: [String] = []
    /// Judge rubric names offered by the judge form.
    public internal(set) var rubrics: [String] = []
    /// Consensus boards, one per benchmark with stored votes (the most recently voted first).
    public internal(set) var consensus: [ConsensusBoard] = []

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

    /// Creates a model with precomputed summary columns (e.g. from the store's report).
    public init(
        runs: [String], columns: [String], means: [[Double?]], counts: [[Int]] = [], prompts: [BenchPromptResult],
        baseline: Int = 0
    ) {
        self.runs = runs
        benchmarks = columns
        self.means = means
        self.counts = counts
        self.prompts = prompts
        self.baseline = baseline
    }

    /// The summary's columns (one per label in `benchmarks`).
    public var columns: [BenchColumn] { benchmarks.map(BenchColumn.init(label:)) }

    /// The mean of `run` on benchmark `b`.
    public func mean(_ run: Int, _ b: Int) -> Double? {
        run < means.count && b < means[run].count ? means[run][b] : nil
    }

    /// `mean(run, b) - mean(baseline, b)`, nil when either is missing.
    public func delta(_ run: Int, _ b: Int) -> Double? {
        guard let m = mean(run, b), let base = mean(baseline, b) else { return nil }
        return m - base
    }

    /// The delta as a percentage of the baseline's mean, nil when it is missing or zero.
    public func deltaPercent(_ run: Int, _ b: Int) -> Double? {
        guard let d = delta(run, b), let base = mean(baseline, b), base != 0 else { return nil }
        return d / abs(base) * 100
    }

    /// The number of scored answers behind `mean(run, b)`, if known.
    public func count(_ run: Int, _ b: Int) -> Int? {
        run < counts.count && b < counts[run].count ? counts[run][b] : nil
    }
}

/// The changes the bench service makes: every field of `BenchViewModel` is read-only outside
/// Panels and changes through these methods.
extension BenchViewModel {
    /// Takes the tables, prompts and choices of `fresh` (a new read of the store), keeping the
    /// activity line and the source.
    public mutating func replaceData(with fresh: BenchViewModel) {
        let (activity, source) = (self.activity, self.source)
        self = fresh
        self.activity = activity
        if fresh.source.isEmpty { self.source = source }
    }

    /// Sets the status strip of the running (or last) job.
    public mutating func setActivity(_ activity: BenchActivity?) { self.activity = activity }

    /// Sets the notice shown when there is nothing to browse (nil clears it).
    public mutating func setNotice(_ text: String?) { notice = text }

    /// Names the store shown.
    public mutating func setSource(_ text: String) { source = text }

    /// Sets the Consensus view's boards.
    public mutating func setConsensus(_ boards: [ConsensusBoard]) { consensus = boards }

    /// Sets what the run, judge and rubric forms offer.
    public mutating func setChoices(runnable: [String]? = nil, judgeModels: [String]? = nil, rubrics: [String]? = nil) {
        if let runnable { self.runnable = runnable }
        if let judgeModels { self.judgeModels = judgeModels }
        if let rubrics { self.rubrics = rubrics }
    }
}
