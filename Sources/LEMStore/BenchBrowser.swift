import Foundation
import GRDB
import LEMScoring

/// The store as the Bench panel browses it: the paper-style summary (models × benchmark
/// dimensions, means and counts) and every prompt with each model's answer and scores.
///
/// Each benchmark has a headline score per answer — the first dimension the report shows for it
/// (GSM8K `correct`, a judge dimension), else the LEK heuristic composite — used for the
/// browser's score column, sort and deltas. Pattern-scorer matches in each answer are listed for
/// highlighting.
public struct BenchBrowser: Sendable {
    /// One prompt across models.
    public struct Prompt: Sendable, Equatable {
        public var benchmark: String
        public var key: String
        public var prompt: String
        /// Per model (order of `models`); "" when the model has no answer.
        public var answers: [String]
        /// Per model: the headline score.
        public var headline: [Double?]
        /// Per model: every stored score.
        public var scores: [[ScoreCell]]
        /// Per model: pattern-scorer matches (distinct texts) in the answer.
        public var highlights: [[String]]
    }

    /// Models, in report order (then any model with answers but no scores).
    public var models: [String]
    /// Summary columns, `benchmark dimension` (GSM8K accuracy in percent).
    public var columns: [String]
    /// (models, columns) means.
    public var means: [[Double?]]
    /// (models, columns) scored answers behind each mean.
    public var counts: [[Int]]
    /// Every prompt with at least one answer, by benchmark then key.
    public var prompts: [Prompt]
    /// Benchmarks with stored items (can be run).
    public var runnable: [String]
    /// Index of `baseline` in `models` (0 when absent).
    public var baselineIndex: Int

    /// Reads the store.
    public static func build(store: ResultStore, baseline: String? = nil, patterns: PatternScorer = PatternScorer())
        throws
        -> BenchBrowser
    {
        let report = try BenchReport.build(store: store, baseline: baseline)
        let lek = try BenchReport.build(store: store, scorers: ["lek-heuristic"])
        let rows = try store.promptRows(ResponseFilter(limit: Int.max))
        var models = report.models
        for m in try store.models() where !models.contains(m) && rows.contains(where: { $0.model == m }) {
            models.append(m)
        }

        // Summary columns: the report's dimensions, plus the LEK composite where a benchmark has no other.
        var columns: [String] = []
        var cells: [[String: BenchReport.Cell]] = []
        var headline: [String: (dimension: String, scorers: [String: String])] = [:]
        for b in report.benchmarks {
            for d in b.dimensions {
                columns.append("\(b.name) \(d.name)")
                cells.append(d.cells)
            }
            if let d = b.dimensions.first { headline[b.name] = (d.name == "accuracy" ? "correct" : d.name, d.scorers) }
        }
        for b in lek.benchmarks where headline[b.name] == nil {
            guard let d = b.dimensions.first(where: { $0.name == "lek_score" }) else { continue }
            columns.append("\(b.name) lek_score")
            cells.append(d.cells)
            headline[b.name] = ("lek_score", d.scorers)
        }
        let means = models.map { m in cells.map { $0[m]?.mean } }
        let counts = models.map { m in cells.map { $0[m]?.n ?? 0 } }

        var prompts: [Prompt] = []
        var index: [String: Int] = [:]
        let modelIndex = Dictionary(uniqueKeysWithValues: models.enumerated().map { ($1, $0) })
        let empty = Array(repeating: "", count: models.count)
        for r in rows {
            guard let mi = modelIndex[r.model] else { continue }
            let id = r.benchmark + "\u{0}" + r.itemKey
            if index[id] == nil {
                index[id] = prompts.count
                prompts.append(
                    Prompt(
                        benchmark: r.benchmark, key: r.itemKey, prompt: r.prompt, answers: empty,
                        headline: Array(repeating: nil, count: models.count),
                        scores: Array(repeating: [], count: models.count),
                        highlights: Array(repeating: [], count: models.count)))
            }
            let pi = index[id]!
            prompts[pi].answers[mi] = r.response
            prompts[pi].scores[mi] = r.scores
            if let h = headline[r.benchmark], let scorer = h.scorers[r.model] {
                prompts[pi].headline[mi] = r.value(scorer, h.dimension)
            }
            var seen: [String] = []
            for m in patterns.matches(in: r.response) where !seen.contains(m.text) { seen.append(m.text) }
            prompts[pi].highlights[mi] = seen
        }
        let runnable = try store.read { try String.fetchAll($0, sql: "SELECT DISTINCT benchmark FROM item ORDER BY 1") }
        return BenchBrowser(
            models: models, columns: columns, means: means, counts: counts, prompts: prompts,
            runnable: runnable, baselineIndex: baseline.flatMap { models.firstIndex(of: $0) } ?? 0)
    }
}
