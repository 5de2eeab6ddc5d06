import LEMCore

/// What the Bench panel's Consensus view shows for one benchmark: the Bradley–Terry ranking with
/// bootstrap intervals, unanimity and Fleiss' κ, and every (item, pair) with each judge's
/// verdict — the comparisons the judges did not agree on first, since those need a person.
public struct ConsensusBoard: Hashable, Sendable {
    /// The benchmark judged.
    public var benchmark: String
    /// Strongest first.
    public var ranking: [ConsensusRank]
    public var unanimousShare: Double
    /// Nil when undefined (every verdict in one category).
    public var kappa: Double?
    public var judges: Int
    public var items: Int
    /// The comparisons, each judge's combined verdict by judge, the non-unanimous ones first (each
    /// group in the given order).
    public private(set) var comparisons: [ConsensusSubject]
    /// Caveats of the statistics (a regularised fit).
    public var notes: [String]

    /// Creates a board; `comparisons` are reordered so the non-unanimous ones come first.
    public init(
        benchmark: String, ranking: [ConsensusRank], unanimousShare: Double, kappa: Double?, judges: Int, items: Int,
        comparisons: [ConsensusSubject], notes: [String] = []
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
