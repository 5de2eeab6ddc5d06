/// The prompt browser's filter, typed as one line: `key:value` terms plus free text.
///
/// Terms: `bench:NAME` (benchmark, prefix), `model:NAME` (prompts that model answered; its score
/// is the one `score:` tests), `scorer:SCORER[/DIMENSION]` (which score is shown, sorted and
/// ranged; alone, it keeps the prompts where some run has that score), `score:LO..HI` (either end optional), `flip[:A,B]` (the score crosses the pass line
/// between A and B — 0.5 for 0–1 scores, 5.5 for 1–10 ones), `diff[:A,B]` (the scores differ).
/// Without names, `flip`/`diff` compare the baseline with the compared run. Every other word is
/// part of a case-insensitive regular expression searched in the id, benchmark, prompt and
/// answers (matched literally when it is not a valid expression).
public struct BenchQuery: Hashable, Sendable {
    /// Keep prompts of benchmarks starting with this.
    public var benchmark: String?
    /// Keep prompts this model answered.
    public var model: String?
    /// Which score is shown and tested: `scorer/dimension`, a dimension or a scorer.
    public var metric: String?
    /// Lower bound of the score.
    public var minScore: Double?
    /// Upper bound of the score.
    public var maxScore: Double?
    /// How two runs must relate.
    public enum PairTest: String, Hashable, Sendable { case flipped = "flip", different = "diff" }
    /// The pair test, if any.
    public var pair: PairTest?
    /// The two model names of the pair test; empty for baseline vs compared run.
    public var pairModels: [String] = []
    /// The free-text regular expression.
    public var pattern = ""
    /// Terms that could not be read.
    public var problems: [String] = []

    /// Creates an empty query (everything passes).
    public init() {}

    /// Whether nothing is filtered.
    public var isEmpty: Bool {
        benchmark == nil && model == nil && minScore == nil && maxScore == nil && pair == nil && pattern.isEmpty
    }

    /// Reads a filter line.
    public static func parse(_ text: String) -> BenchQuery {
        var q = BenchQuery()
        var words: [String] = []
        for token in text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init) {
            let parts = token.split(separator: ":", maxSplits: 1).map(String.init)
            let key = parts[0].lowercased()
            let value = parts.count > 1 ? parts[1] : ""
            switch (key, value.isEmpty) {
            case ("bench", false), ("b", false): q.benchmark = value
            case ("model", false), ("m", false): q.model = value
            case ("scorer", false), ("s", false): q.metric = value
            case ("score", false):
                let bounds = value.components(separatedBy: "..")
                if bounds.count == 2, bounds[0].isEmpty || Double(bounds[0]) != nil,
                    bounds[1].isEmpty || Double(bounds[1]) != nil
                {
                    q.minScore = Double(bounds[0])
                    q.maxScore = Double(bounds[1])
                } else if bounds.count == 1, let v = Double(value) {
                    q.minScore = v
                    q.maxScore = v
                } else {
                    q.problems.append("score:\(value) (expected LO..HI)")
                }
            case ("flip", _), ("diff", _):
                q.pair = PairTest(rawValue: key)
                if !value.isEmpty {
                    let names = value.split(separator: ",").map(String.init)
                    if names.count == 2 {
                        q.pairModels = names
                    } else {
                        q.problems.append("\(key):\(value) (expected A,B)")
                    }
                }
            default:
                words.append(token)
            }
        }
        q.pattern = words.joined(separator: " ")
        return q
    }

    /// The run index named by `name`: exact, else the only prefix, else the only substring match.
    public static func run(named name: String, in runs: [String]) -> Int? {
        let n = name.lowercased()
        let lower = runs.map { $0.lowercased() }
        if let i = lower.firstIndex(of: n) { return i }
        let prefixed = lower.indices.filter { lower[$0].hasPrefix(n) }
        if prefixed.count == 1 { return prefixed[0] }
        let containing = lower.indices.filter { lower[$0].contains(n) }
        return containing.count == 1 ? containing[0] : nil
    }

    /// The run whose score `score:` tests and `scorer:` shows: `model:`, else the baseline.
    public func focusRun(runs: [String], baseline: Int) -> Int {
        model.flatMap { Self.run(named: $0, in: runs) } ?? baseline
    }

    /// The two runs of the pair test.
    public func pairRuns(runs: [String], baseline: Int, compare: Int) -> (Int, Int)? {
        if pairModels.count == 2 {
            guard let a = Self.run(named: pairModels[0], in: runs), let b = Self.run(named: pairModels[1], in: runs)
            else {
                return nil
            }
            return (a, b)
        }
        return (baseline, compare)
    }

    /// The pass line of a flip: 0.5 for scores in 0…1, else 5.5 (the middle of a 1–10 scale).
    public static func passLine(_ a: Double, _ b: Double) -> Double { max(a, b) <= 1 && min(a, b) >= 0 ? 0.5 : 5.5 }

    /// The prompts that pass, in their original order.
    public func apply(to prompts: [BenchPromptResult], runs: [String], baseline: Int, compare: Int)
        -> [BenchPromptResult]
    {
        let focus = focusRun(runs: runs, baseline: baseline)
        let modelRun = model.map { Self.run(named: $0, in: runs) }
        let pairs = pair.map { _ in pairRuns(runs: runs, baseline: baseline, compare: compare) }
        let matcher = TextMatcher(pattern)
        return prompts.filter { p in
            if let benchmark, !p.benchmark.lowercased().hasPrefix(benchmark.lowercased()) { return false }
            if let modelRun {
                guard let r = modelRun, p.hasAnswer(r) else { return false }
            }
            if metric != nil, minScore == nil, maxScore == nil, pair == nil {
                guard runs.indices.contains(where: { p.value($0, metric: metric) != nil }) else { return false }
            }
            if minScore != nil || maxScore != nil {
                guard let v = p.value(focus, metric: metric) else { return false }
                if let minScore, v < minScore { return false }
                if let maxScore, v > maxScore { return false }
            }
            if let pair, let pairs {
                guard let ab = pairs, let va = p.value(ab.0, metric: metric), let vb = p.value(ab.1, metric: metric)
                else {
                    return false
                }
                switch pair {
                case .flipped:
                    let line = Self.passLine(va, vb)
                    if (va >= line) == (vb >= line) { return false }
                case .different:
                    if va == vb { return false }
                }
            }
            if !matcher.isEmpty {
                return matcher.matches(p.id) || matcher.matches(p.benchmark) || matcher.matches(p.prompt)
                    || p.answers.contains(where: matcher.matches)
            }
            return true
        }
    }
}

/// A case-insensitive regular expression, or a plain substring when the pattern does not compile.
struct TextMatcher {
    let regex: Regex<AnyRegexOutput>?
    let needle: String
    let isEmpty: Bool

    init(_ pattern: String) {
        isEmpty = pattern.isEmpty
        needle = pattern.lowercased()
        regex = pattern.isEmpty ? nil : (try? Regex(pattern))?.ignoresCase()
    }

    /// Whether the pattern occurs in `text`.
    func matches(_ text: String) -> Bool {
        if isEmpty { return true }
        if let regex { return (try? regex.firstMatch(in: text)) != nil }
        return text.lowercased().contains(needle)
    }

    /// Whether the pattern is a valid regular expression (else it is matched literally).
    var isRegex: Bool { regex != nil }
}
