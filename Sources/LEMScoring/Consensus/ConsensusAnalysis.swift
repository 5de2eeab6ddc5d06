import Foundation
import LEMCore

/// The Matrix-8 consensus statistics of a set of pairwise votes (docs/SCORING.md, "Matrix-8
/// consensus"): Bradley–Terry strengths with bootstrap intervals, each model's record, the share
/// of unanimous comparisons and Fleiss' κ.
///
/// Subjects are (item, pair of models); each judge's verdict on a subject is its two orders
/// combined (`ConsensusSubject.combine`). A combined tie counts as half a win for each side in
/// the strength fit.
public struct ConsensusAnalysis: Sendable, Equatable {
    /// The models, strongest first (ties of θ by name).
    public var models: [ConsensusRank]
    /// Distinct items with at least one verdict.
    public var items: Int
    /// (item, pair) subjects.
    public var pairs: Int
    /// Distinct judges.
    public var judges: Int
    /// The share of subjects where every judge named the same winner (no ties).
    public var unanimousShare: Double
    /// Fleiss' κ over subjects with at least two judges; nil when there are none or when chance
    /// agreement is 1 (every verdict in one category).
    public var fleissKappa: Double?
    /// Whether the strengths had no finite maximum and were fitted with `BradleyTerry.epsilon`
    /// pseudo-wins between every pair (a model that won or lost everything).
    public var regularised: Bool
    /// How many bootstrap resamples had to be regularised.
    public var regularisedResamples: Int
    /// The subjects, with every judge's verdict.
    public var subjects: [ConsensusSubject]

    /// Bootstrap resamples drawn by default.
    public static let defaultResamples = 1000

    /// Analyses votes; the bootstrap draws `resamples` resamples of the items (in code-point
    /// order) with `SplitMix64(seed:)`, each index `next() % items`.
    public init(votes: [ConsensusVote], resamples: Int = defaultResamples, seed: UInt64 = 0) {
        subjects = ConsensusSubject.combine(votes)
        var names = Set<String>()
        for s in subjects { names.formUnion([s.modelA, s.modelB]) }
        let order = names.sorted(by: codePointPrecedes)
        let index = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
        var itemNames: [String] = []
        var perItem: [[[Double]]] = []  // (items, k, k) win matrices
        var record = [[Int]](repeating: [0, 0, 0], count: order.count)  // (k, wins/losses/ties)
        for s in subjects {
            if itemNames.last != s.item {
                itemNames.append(s.item)
                perItem.append(Self.zeros(order.count))
            }
            let (a, b) = (index[s.modelA]!, index[s.modelB]!)
            for v in s.verdicts {
                switch v.outcome {
                case .a:
                    perItem[perItem.count - 1][a][b] += 1
                    record[a][0] += 1
                    record[b][1] += 1
                case .b:
                    perItem[perItem.count - 1][b][a] += 1
                    record[b][0] += 1
                    record[a][1] += 1
                case .tie:
                    perItem[perItem.count - 1][a][b] += 0.5
                    perItem[perItem.count - 1][b][a] += 0.5
                    record[a][2] += 1
                    record[b][2] += 1
                }
            }
        }
        let fit = BradleyTerry.fit(wins: Self.sum(perItem, weights: nil, k: order.count))
        var rng = SplitMix64(seed: seed)
        var samples = [[Double]](repeating: [], count: order.count)  // (k, resamples)
        var regularisedSamples = 0
        for _ in 0..<(itemNames.isEmpty ? 0 : max(0, resamples)) {
            var weights = [Double](repeating: 0, count: itemNames.count)
            for _ in itemNames.indices { weights[rng.index(below: itemNames.count)] += 1 }
            let sample = BradleyTerry.fit(wins: Self.sum(perItem, weights: weights, k: order.count))
            if sample.regularised { regularisedSamples += 1 }
            for m in order.indices { samples[m].append(sample.theta[m]) }
        }
        var results = order.indices.map { m in
            let sorted = samples[m].sorted()
            return ConsensusRank(
                name: order[m], theta: fit.theta[m], low: Self.percentile(sorted, 0.025) ?? fit.theta[m],
                high: Self.percentile(sorted, 0.975) ?? fit.theta[m], wins: record[m][0], losses: record[m][1],
                ties: record[m][2])
        }
        results.sort { $0.theta != $1.theta ? $0.theta > $1.theta : codePointPrecedes($0.name, $1.name) }
        models = results
        items = itemNames.count
        pairs = subjects.count
        judges = Set(votes.map(\.judge)).count
        unanimousShare = subjects.isEmpty ? 0 : Double(subjects.filter(\.isUnanimous).count) / Double(subjects.count)
        fleissKappa = Self.fleissKappa(subjects)
        regularised = fit.regularised
        regularisedResamples = regularisedSamples
    }

    static func zeros(_ k: Int) -> [[Double]] { Array(repeating: Array(repeating: 0, count: k), count: k) }

    /// Σ weights[t] · matrices[t] (all weights 1 when nil).
    static func sum(_ matrices: [[[Double]]], weights: [Double]?, k: Int) -> [[Double]] {
        var out = zeros(k)
        for (t, m) in matrices.enumerated() {
            let w = weights?[t] ?? 1
            guard w != 0 else { continue }
            for i in 0..<k { for j in 0..<k { out[i][j] += w * m[i][j] } }
        }
        return out
    }

    /// The `q` quantile of sorted values, interpolated linearly between order statistics (numpy's
    /// default): h = (n − 1) q, x[⌊h⌋] + (h − ⌊h⌋)(x[⌊h⌋ + 1] − x[⌊h⌋]).
    static func percentile(_ sorted: [Double], _ q: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let h = Double(sorted.count - 1) * q
        let lo = Int(h.rounded(.down))
        let hi = min(lo + 1, sorted.count - 1)
        return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
    }

    /// Fleiss' κ with categories {A wins, B wins, tie}: P̄ the mean over subjects of
    /// (Σ n_ij² − n_i) / (n_i (n_i − 1)), P_e = Σ p_j² with p_j the share of all verdicts in
    /// category j, κ = (P̄ − P_e) / (1 − P_e). Subjects rated by one judge are left out; with
    /// differing judge counts this is the usual generalisation (n_i per subject).
    static func fleissKappa(_ subjects: [ConsensusSubject]) -> Double? {
        var agreement = 0.0
        var rated = 0
        var totals: [ConsensusSubject.Outcome: Double] = [:]
        var verdicts = 0.0
        for s in subjects where s.verdicts.count >= 2 {
            let n = Double(s.verdicts.count)
            let tally = s.tally
            let squares = tally.values.reduce(0.0) { $0 + Double($1 * $1) }
            agreement += (squares - n) / (n * (n - 1))
            rated += 1
            for (outcome, count) in tally { totals[outcome, default: 0] += Double(count) }
            verdicts += n
        }
        guard rated > 0 else { return nil }
        let expected = ConsensusSubject.Outcome.allCases.reduce(0.0) {
            let p = (totals[$1] ?? 0) / verdicts
            return $0 + p * p
        }
        guard expected < 1 else { return nil }
        return (agreement / Double(rated) - expected) / (1 - expected)
    }
}
