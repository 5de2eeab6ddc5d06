import Foundation
import GRDB
import LEMScoring

/// A stored response with what scorers and judges need to see.
public struct ScoringTarget: Sendable {
    /// The response's row id.
    public var responseID: Int64
    /// The model that wrote it.
    public var model: String
    /// The benchmark.
    public var benchmark: String
    /// The item's key.
    public var itemKey: String
    /// The item's prompt.
    public var prompt: String
    /// The response text.
    public var response: String
    /// The item's reference fields.
    public var reference: [String: String]
}

extension ResultStore {
    /// Scores one input with each scorer and stores every dimension against `responseID`;
    /// returns the number of scores written.
    func applyScorers(_ scorers: [any TextScorer], to input: ScoringInput, responseID: Int64, in db: Database) throws
        -> Int
    {
        var n = 0
        for scorer in scorers {
            for s in scorer.score(input) {
                let stored = StoredScore(
                    dimension: s.dimension, value: s.value, status: s.value == nil ? .unscored : .scored,
                    reasoning: s.detail)
                try putScore(
                    responseID: responseID, scorer: scorer.name, version: scorer.version, score: stored, in: db)
                n += 1
            }
        }
        return n
    }

    /// Scores one stored response with each scorer in one transaction; returns the scores written.
    public func score(_ responseID: Int64, with scorers: [any TextScorer], input: ScoringInput) throws -> Int {
        try write { db in try applyScorers(scorers, to: input, responseID: responseID, in: db) }
    }

    /// Writes a response's scores from one scorer in one transaction, with the judge's raw reply
    /// kept once for all of them (`judgeReply`); nil drops a reply an earlier verdict kept.
    public func putScores(
        responseID: Int64, scorer: String, version: String, _ scores: [StoredScore],
        reply: String? = nil
    ) throws {
        try write { db in
            for s in scores { try putScore(responseID: responseID, scorer: scorer, version: version, score: s, in: db) }
            if let reply {
                try db.execute(
                    sql: """
                        INSERT INTO judge_reply (response_id, scorer, text, created_at) VALUES (?, ?, ?, ?)
                        ON CONFLICT (response_id, scorer) DO UPDATE SET text = excluded.text, created_at = excluded.created_at
                        """, arguments: [responseID, scorer, reply, Date().timeIntervalSince1970])
            } else {
                try db.execute(
                    sql: "DELETE FROM judge_reply WHERE response_id = ? AND scorer = ?",
                    arguments: [responseID, scorer])
            }
        }
    }

    /// The raw reply `scorer` (a judge) gave for a response, as kept by `putScores`.
    public func judgeReply(responseID: Int64, scorer: String) throws -> String? {
        try read { db in
            try String.fetchOne(
                db, sql: "SELECT text FROM judge_reply WHERE response_id = ? AND scorer = ?",
                arguments: [responseID, scorer])
        }
    }

    /// Responses that hold a verdict of `scorer` that did not fail.
    public func responsesScored(by scorer: String) throws -> Set<Int64> {
        try read { db in
            Set(
                try Int64.fetchAll(
                    db,
                    sql: """
                        SELECT DISTINCT response_id FROM score WHERE scorer = ? AND status != 'failed'
                        """, arguments: [scorer]))
        }
    }

    /// Responses of the latest run of each model × benchmark, filtered (empty filter = all).
    public func responses(benchmarks: [String] = [], models: [String] = []) throws -> [ScoringTarget] {
        try read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT response.id AS rid, model.name AS model, run.benchmark AS bench, item.key AS key,
                           item.prompt AS prompt, response.text AS text, item.reference AS ref
                    FROM response
                    JOIN run ON run.id = response.run_id
                    JOIN model ON model.id = run.model_id
                    JOIN item ON item.id = response.item_id
                    WHERE run.id IN (SELECT MAX(id) FROM run GROUP BY model_id, benchmark)
                    ORDER BY run.benchmark, model.id, item.key
                    """)
            return rows.compactMap { row -> ScoringTarget? in
                let t = ScoringTarget(
                    responseID: row["rid"], model: row["model"], benchmark: row["bench"], itemKey: row["key"],
                    prompt: row["prompt"], response: row["text"], reference: BenchItem.decodeReference(row["ref"]))
                if !benchmarks.isEmpty, !benchmarks.contains(t.benchmark) { return nil }
                if !models.isEmpty, !models.contains(t.model) { return nil }
                return t
            }
        }
    }
}
