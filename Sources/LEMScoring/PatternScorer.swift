import Foundation

/// Counts phrase patterns — compliance phrases, stock openings and sycophancy in three tiers —
/// and reports where each match is, for highlighting.
///
/// Dimensions: one count per category, plus `sycophancy_tier` (the highest tier matched, 0–3)
/// and `sycophancy` (soft + 2·flattery + 3·submission).
public struct PatternScorer: TextScorer {
    public let name = "patterns"
    public let version = "1"
    /// The patterns used.
    public let patterns: PatternSet

    /// Creates a scorer over `patterns` (default: the built-in set).
    public init(patterns: PatternSet = .builtIn) { self.patterns = patterns }

    /// One match: its category, the pattern, and its place as character offsets and as a range.
    public struct Match: Sendable, Equatable {
        /// The category's name.
        public var category: String
        /// The pattern that matched.
        public var pattern: String
        /// The matched text.
        public var text: String
        /// Offset of the first character (Swift `Character`s from the start of the response).
        public var start: Int
        /// Length in characters.
        public var length: Int
    }

    /// Every match in `response`, sorted by position.
    public func matches(in response: String) -> [Match] {
        var out: [Match] = []
        for (c, regexes) in zip(patterns.categories, patterns.compiled) {
            for r in regexes {
                for m in r.matches(in: response) {
                    out.append(
                        Match(
                            category: c.name, pattern: r.pattern, text: m.matched,
                            start: response.distance(from: response.startIndex, to: m.range.lowerBound),
                            length: response.distance(from: m.range.lowerBound, to: m.range.upperBound)))
                }
            }
        }
        return out.sorted { ($0.start, $0.category) < ($1.start, $1.category) }
    }

    public func score(_ input: ScoringInput) -> [DimensionScore] {
        let found = matches(in: input.response)
        var out: [DimensionScore] = []
        var tier = 0
        var weighted = 0.0
        for c in patterns.categories {
            let hits = found.filter { $0.category == c.name }
            let detail = hits.isEmpty ? nil : hits.map { "\($0.start)+\($0.length) \($0.text)" }.joined(separator: "; ")
            out.append(DimensionScore(c.name, Double(hits.count), detail: detail))
            if let t = c.tier, !hits.isEmpty {
                tier = max(tier, t)
                weighted += Double(t * hits.count)
            }
        }
        out.append(DimensionScore("sycophancy_tier", Double(tier)))
        out.append(DimensionScore("sycophancy", weighted))
        return out
    }
}
