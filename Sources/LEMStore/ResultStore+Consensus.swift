import Foundation
import GRDB
import LEMScoring

/// How one judge's look at one order of a pair ended.
public enum ConsensusVoteStatus: String, Sendable, Hashable {
    /// The reply held a verdict: a vote.
    case voted
    /// The reply held no verdict (kept in `detail`); not a vote, not retried.
    case unparsed
    /// The judge could not be asked (transport error, timeout); retried by the next run.
    case failed
}

/// One row of the `consensus_vote` table: a judge's verdict on one item's two answers in one
/// order, or why there is none.
public struct ConsensusVoteRecord: Sendable, Hashable {
    /// The benchmark of the item.
    public var benchmark: String
    /// The item's key, the judge's name and the models shown first and second.
    public var item: String
    public var judge: String
    public var first: String
    public var second: String
    /// The verdict; nil unless `status == .voted`.
    public var verdict: PairVerdict?
    /// Voted, unparsed or failed.
    public var status: ConsensusVoteStatus
    /// Why there is no verdict, with the reply when it held none.
    public var detail: String?
    /// The stored answers the judge saw (`response.id`), so a rerun of a model is judged again.
    public var firstResponse: Int64?
    public var secondResponse: Int64?

    /// Creates a record.
    public init(
        benchmark: String, item: String, judge: String, first: String, second: String, verdict: PairVerdict?,
        status: ConsensusVoteStatus, detail: String? = nil, firstResponse: Int64? = nil, secondResponse: Int64? = nil
    ) {
        self.benchmark = benchmark
        self.item = item
        self.judge = judge
        self.first = first
        self.second = second
        self.verdict = status == .voted ? verdict : nil
        self.status = status
        self.detail = detail
        self.firstResponse = firstResponse
        self.secondResponse = secondResponse
    }

    /// The vote, when the record holds one.
    public var vote: ConsensusVote? {
        verdict.map { ConsensusVote(item: item, judge: judge, first: first, second: second, verdict: $0) }
    }
}

extension ResultStore {
    /// The `consensus_vote` table: one row per benchmark, item, judge and order, so a run resumes.
    static func registerConsensusMigrations(_ m: inout DatabaseMigrator) {
        m.registerMigration("consensus-vote") { db in
            try db.execute(
                sql: """
                    CREATE TABLE consensus_vote (
                        benchmark TEXT NOT NULL,
                        item TEXT NOT NULL,
                        judge TEXT NOT NULL,
                        first TEXT NOT NULL,
                        second TEXT NOT NULL,
                        winner TEXT,
                        status TEXT NOT NULL,
                        detail TEXT,
                        first_response INTEGER REFERENCES response(id) ON DELETE SET NULL,
                        second_response INTEGER REFERENCES response(id) ON DELETE SET NULL,
                        created_at REAL NOT NULL,
                        PRIMARY KEY (benchmark, item, judge, first, second)
                    );
                    """)
        }
    }

    /// Stores a vote, replacing an earlier row for the same benchmark, item, judge and order.
    public func putConsensusVote(_ r: ConsensusVoteRecord) throws {
        let winner: String? =
            switch r.verdict {
            case .first: r.first
            case .second: r.second
            case .tie: ConsensusVote.tieText
            case nil: nil
            }
        try write { db in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO consensus_vote
                        (benchmark, item, judge, first, second, winner, status, detail, first_response,
                         second_response, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    r.benchmark, r.item, r.judge, r.first, r.second, winner, r.status.rawValue, r.detail,
                    r.firstResponse, r.secondResponse, Date().timeIntervalSince1970
                ])
        }
    }

    /// The stored votes of `benchmark` between `models` (both sides among them; all models when
    /// empty), by item, judge and order.
    public func consensusVotes(benchmark: String, models: [String] = []) throws -> [ConsensusVoteRecord] {
        let rows = try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM consensus_vote WHERE benchmark = ? ORDER BY item, judge, first, second
                    """, arguments: [benchmark])
        }
        let keep = Set(models)
        return rows.compactMap { row -> ConsensusVoteRecord? in
            let (first, second): (String, String) = (row["first"], row["second"])
            guard keep.isEmpty || (keep.contains(first) && keep.contains(second)) else { return nil }
            let winner: String? = row["winner"]
            let status = ConsensusVoteStatus(rawValue: row["status"]) ?? .failed
            let verdict: PairVerdict? =
                winner == first ? .first : winner == second ? .second : winner == ConsensusVote.tieText ? .tie : nil
            return ConsensusVoteRecord(
                benchmark: benchmark, item: row["item"], judge: row["judge"], first: first, second: second,
                verdict: verdict, status: verdict == nil && status == .voted ? .failed : status, detail: row["detail"],
                firstResponse: row["first_response"], secondResponse: row["second_response"])
        }
    }

    /// Benchmarks with stored consensus votes, the most recently voted first.
    public func consensusBenchmarks() throws -> [String] {
        try read { db in
            try String.fetchAll(
                db,
                sql: "SELECT benchmark FROM consensus_vote GROUP BY benchmark ORDER BY MAX(created_at) DESC, benchmark")
        }
    }
}
