import LEMScoring
import LEMStore
import Panels

/// The Bench panel's Consensus view: the stored votes of each benchmark analysed as
/// `lem bench consensus` analyses them, turned into the panel's boards.
extension BenchService {
    /// The most benchmarks the view shows boards for (the most recently voted).
    static let consensusBoardLimit = 8

    /// One board per benchmark with stored votes.
    static func consensusBoards(_ store: ResultStore) throws -> [ConsensusBoard] {
        try store.consensusBenchmarks().prefix(consensusBoardLimit).compactMap { benchmark in
            let votes = try store.consensusVotes(benchmark: benchmark).compactMap(\.vote)
            guard !votes.isEmpty else { return nil }
            return board(benchmark: benchmark, ConsensusAnalysis(votes: votes))
        }
    }

    /// The panel's value for one analysis.
    static func board(benchmark: String, _ a: ConsensusAnalysis) -> ConsensusBoard {
        ConsensusBoard(
            benchmark: benchmark,
            ranking: a.models.map {
                ConsensusBoard.Rank(
                    name: $0.name, theta: $0.theta, low: $0.low, high: $0.high, wins: $0.wins, losses: $0.losses,
                    ties: $0.ties)
            }, unanimousShare: a.unanimousShare, kappa: a.fleissKappa, judges: a.judges, items: a.items,
            comparisons: a.subjects.map { s in
                ConsensusBoard.Comparison(
                    item: s.item, modelA: s.modelA, modelB: s.modelB,
                    votes: s.verdicts.map { v in
                        let verdict: ConsensusBoard.Verdict =
                            switch v.outcome {
                            case .a: .a
                            case .b: .b
                            case .tie: .tie
                            }
                        return ConsensusBoard.Comparison.Vote(judge: v.judge, verdict: verdict)
                    })
            }, notes: a.notes)
    }
}
