import Foundation
import GRDB
import LEMScoring

/// Runs text scorers over stored responses and writes their scores.
public enum ScoringPass {
    /// Scores one input with each scorer and stores every dimension against `responseID`;
    /// returns the number of scores written.
    static func apply(_ scorers: [any TextScorer], to input: ScoringInput, responseID: Int64,
                      store: ResultStore, db: Database) throws -> Int {
        var n = 0
        for scorer in scorers {
            for s in scorer.score(input) {
                let stored = StoredScore(dimension: s.dimension, value: s.value, status: s.value == nil ? .unscored : .scored,
                                         reasoning: s.detail)
                try store.putScore(responseID: responseID, scorer: scorer.name, version: scorer.version, score: stored, in: db)
                n += 1
            }
        }
        return n
    }

    /// Scores every stored response of the selected benchmarks and models (all when empty), one
    /// transaction per response so a killed pass keeps what it finished. Returns scores written.
    public static func run(_ scorers: [any TextScorer], store: ResultStore, benchmarks: [String] = [],
                           models: [String] = [], progress: (Int, Int) -> Void = { _, _ in }) throws -> Int {
        let targets = try store.responses(benchmarks: benchmarks, models: models)
        var written = 0
        for (i, t) in targets.enumerated() {
            written += try store.pool.write { db in
                try apply(scorers, to: ScoringInput(prompt: t.prompt, response: t.response, reference: t.reference),
                          responseID: t.responseID, store: store, db: db)
            }
            progress(i + 1, targets.count)
        }
        return written
    }
}

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
    /// Responses of the latest run of each model × benchmark, filtered (empty filter = all).
    public func responses(benchmarks: [String] = [], models: [String] = []) throws -> [ScoringTarget] {
        try pool.read { db in
            let rows = try Row.fetchAll(db, sql: """
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
