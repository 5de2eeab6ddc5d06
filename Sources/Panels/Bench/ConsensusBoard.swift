/// What the Bench panel's Consensus view shows for one benchmark: the Bradley–Terry ranking with
/// bootstrap intervals, unanimity and Fleiss' κ, and every (item, pair) with each judge's
/// verdict — the comparisons the judges did not agree on first, since those need a person.
public struct ConsensusBoard: Hashable, Sendable {
    /// One model's place in the ranking.
    public struct Rank: Hashable, Sendable {
        public var name: String
        /// Log-strength and its 95 % interval.
        public var theta: Double
        public var low: Double
        public var high: Double
        public var wins: Int
        public var losses: Int
        public var ties: Int

        /// Creates a rank line.
        public init(name: String, theta: Double, low: Double, high: Double, wins: Int, losses: Int, ties: Int) {
            self.name = name
            self.theta = theta
            self.low = low
            self.high = high
            self.wins = wins
            self.losses = losses
            self.ties = ties
        }
    }

    /// One judge's combined verdict on a comparison.
    public enum Verdict: String, Hashable, Sendable {
        /// The comparison's first model (`Comparison.modelA`) wins.
        case a
        /// Its second model wins.
        case b
        /// Neither, said or from two orders that disagree.
        case tie
    }

    /// One item's comparison of two models.
    public struct Comparison: Hashable, Sendable {
        public var item: String
        public var modelA: String
        public var modelB: String
        /// (judge, verdict), by judge.
        public var votes: [Vote]

        /// One judge's verdict.
        public struct Vote: Hashable, Sendable {
            public var judge: String
            public var verdict: Verdict

            /// Creates a vote.
            public init(judge: String, verdict: Verdict) {
                self.judge = judge
                self.verdict = verdict
            }
        }

        /// Creates a comparison.
        public init(item: String, modelA: String, modelB: String, votes: [Vote]) {
            self.item = item
            self.modelA = modelA
            self.modelB = modelB
            self.votes = votes
        }

        /// Whether every judge named the same winner.
        public var isUnanimous: Bool {
            guard let first = votes.first?.verdict, first != .tie else { return false }
            return votes.allSatisfy { $0.verdict == first }
        }

        /// How many judges said A, B and tie.
        public var counts: (a: Int, b: Int, tie: Int) {
            (
                votes.filter { $0.verdict == .a }.count, votes.filter { $0.verdict == .b }.count,
                votes.filter { $0.verdict == .tie }.count
            )
        }
    }

    /// The benchmark judged.
    public var benchmark: String
    /// Strongest first.
    public var ranking: [Rank]
    public var unanimousShare: Double
    /// Nil when undefined (every verdict in one category).
    public var kappa: Double?
    public var judges: Int
    public var items: Int
    /// The comparisons, the non-unanimous ones first (each group in the given order).
    public private(set) var comparisons: [Comparison]
    /// Caveats of the statistics (a regularised fit).
    public var notes: [String]

    /// Creates a board; `comparisons` are reordered so the non-unanimous ones come first.
    public init(
        benchmark: String, ranking: [Rank], unanimousShare: Double, kappa: Double?, judges: Int, items: Int,
        comparisons: [Comparison], notes: [String] = []
    ) {
        self.benchmark = benchmark
        self.ranking = ranking
        self.unanimousShare = unanimousShare
        self.kappa = kappa
        self.judges = judges
        self.items = items
        self.comparisons = comparisons.filter { !$0.isUnanimous } + comparisons.filter(\.isUnanimous)
        self.notes = notes
    }
}
