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
            benchmark: benchmark, ranking: a.models, unanimousShare: a.unanimousShare, kappa: a.fleissKappa,
            judges: a.judges, items: a.items, comparisons: a.subjects, notes: a.notes)
    }
}
