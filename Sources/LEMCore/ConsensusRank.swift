/// One model's line of a consensus ranking: its Bradley–Terry strength with the bootstrap
/// interval, and its record of combined verdicts.
///
/// LEMScoring's `ConsensusAnalysis` computes it; the Bench panel's Consensus view shows it.
public struct ConsensusRank: Sendable, Hashable {
    /// The model's name.
    public var name: String
    /// Bradley–Terry log-strength (mean 0 over the models).
    public var theta: Double
    /// The 2.5th and 97.5th percentiles of θ over the bootstrap resamples.
    public var low: Double
    public var high: Double
    /// Combined verdicts won, lost and tied.
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
