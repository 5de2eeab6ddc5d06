/// One item's comparison of one pair of models: every judge's verdict, each the judge's two
/// orders combined (the MT-Bench rule: orders that disagree are a tie; a judge that voted only
/// one order keeps that verdict). LEMScoring groups votes into subjects; the Bench panel shows
/// them.
public struct ConsensusSubject: Sendable, Hashable {
    /// The item.
    public var item: String
    /// The pair's model that comes first in code-point order.
    public var modelA: String
    /// The other model.
    public var modelB: String
    /// Each judge's combined verdict, by judge name in code-point order.
    public var verdicts: [Verdict]

    /// One judge's combined verdict.
    public struct Verdict: Sendable, Hashable {
        /// The judge's name.
        public var judge: String
        /// What its orders, combined, said.
        public var outcome: Outcome

        /// Creates a verdict.
        public init(judge: String, outcome: Outcome) {
            self.judge = judge
            self.outcome = outcome
        }
    }

    /// A combined verdict on the pair, independent of the order shown.
    public enum Outcome: String, Sendable, Hashable, CaseIterable {
        /// `modelA` wins.
        case a
        /// `modelB` wins.
        case b
        /// A tie, said or from orders that disagree.
        case tie
    }

    /// Creates a subject.
    public init(item: String, modelA: String, modelB: String, verdicts: [Verdict]) {
        self.item = item
        self.modelA = modelA
        self.modelB = modelB
        self.verdicts = verdicts
    }

    /// Whether every judge named the same winner (no ties).
    public var isUnanimous: Bool {
        guard let first = verdicts.first?.outcome, first != .tie else { return false }
        return verdicts.allSatisfy { $0.outcome == first }
    }

    /// The winner's name for an outcome, nil for a tie.
    public func winner(_ outcome: Outcome) -> String? {
        switch outcome {
        case .a: modelA
        case .b: modelB
        case .tie: nil
        }
    }

    /// How many judges gave each outcome.
    public var tally: [Outcome: Int] {
        var out: [Outcome: Int] = [:]
        for v in verdicts { out[v.outcome, default: 0] += 1 }
        return out
    }
}
