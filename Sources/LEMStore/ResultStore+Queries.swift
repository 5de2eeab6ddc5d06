import Foundation
import GRDB

/// A filter over stored responses for browsing (the TUI's per-prompt views).
public struct ResponseFilter: Sendable, Equatable {
    /// Models to include (empty = all).
    public var models: [String] = []
    /// Benchmarks to include (empty = all).
    public var benchmarks: [String] = []
    /// Keep responses with a scored value by this scorer…
    public var scorer: String?
    /// …on this dimension…
    public var dimension: String?
    /// …at least this…
    public var minScore: Double?
    /// …and at most this.
    public var maxScore: Double?
    /// Case-insensitive substring of the prompt or the response.
    public var text: String?
    /// At most this many rows.
    public var limit: Int = 1000
}

/// One score attached to a browsed response.
public struct ScoreCell: Sendable, Equatable {
    public var scorer: String
    public var dimension: String
    public var value: Double?
    public var status: ScoreStatus
    public var reasoning: String?
}

/// One response with its item and scores.
public struct PromptRow: Sendable, Equatable {
    public var responseID: Int64
    public var model: String
    public var benchmark: String
    public var itemKey: String
    public var domain: String?
    public var prompt: String
    public var response: String
    public var seconds: Double?
    public var scores: [ScoreCell]

    /// The value of one scorer's dimension, if scored.
    public func value(_ scorer: String, _ dimension: String) -> Double? {
        scores.first { $0.scorer == scorer && $0.dimension == dimension }?.value
    }
}

/// An item whose score crosses a threshold between two models.
public struct ScoreFlip: Sendable, Equatable {
    public var itemKey: String
    public var prompt: String
    /// Model A's value and response.
    public var a: Double
    public var responseA: String
    /// Model B's value and response.
    public var b: Double
    public var responseB: String
    /// True when A is at or above the threshold and B below it; false for the reverse.
    public var aPasses: Bool
}

extension ResultStore {
    /// Responses of each model's latest run per benchmark matching `filter`, ordered by
    /// benchmark, item and model, with all their scores.
    public func promptRows(_ filter: ResponseFilter) throws -> [PromptRow] {
        try read { db in
            var sql = """
                SELECT response.id AS rid, model.name AS model, run.benchmark AS bench, item.key AS key,
                       item.domain AS domain, item.prompt AS prompt, response.text AS text, response.seconds AS seconds
                FROM response JOIN run ON run.id = response.run_id JOIN model ON model.id = run.model_id
                JOIN item ON item.id = response.item_id
                WHERE run.id IN (SELECT MAX(id) FROM run GROUP BY model_id, benchmark)
                """
            var args: [(any DatabaseValueConvertible)?] = []
            if !filter.models.isEmpty {
                sql += " AND model.name IN (\(filter.models.map { _ in "?" }.joined(separator: ",")))"
                args += filter.models.map { $0 }
            }
            if !filter.benchmarks.isEmpty {
                sql += " AND run.benchmark IN (\(filter.benchmarks.map { _ in "?" }.joined(separator: ",")))"
                args += filter.benchmarks.map { $0 }
            }
            if filter.scorer != nil || filter.dimension != nil || filter.minScore != nil || filter.maxScore != nil {
                sql += """
                     AND EXISTS (SELECT 1 FROM score s WHERE s.response_id = response.id AND s.status = 'scored'
                        AND (? IS NULL OR s.scorer = ?) AND (? IS NULL OR s.dimension = ?)
                        AND (? IS NULL OR s.value >= ?) AND (? IS NULL OR s.value <= ?))
                    """
                args += [
                    filter.scorer, filter.scorer, filter.dimension, filter.dimension,
                    filter.minScore, filter.minScore, filter.maxScore, filter.maxScore
                ]
            }
            if let text = filter.text, !text.isEmpty {
                let escaped = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(
                    of: "%", with: "\\%"
                )
                .replacingOccurrences(of: "_", with: "\\_")
                sql += " AND (response.text LIKE ? ESCAPE '\\' OR item.prompt LIKE ? ESCAPE '\\')"
                args += ["%\(escaped)%", "%\(escaped)%"]
            }
            sql += " ORDER BY run.benchmark, item.key, model.id LIMIT ?"
            args.append(filter.limit)
            let rows = try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args))
            var out = rows.map {
                PromptRow(
                    responseID: $0["rid"], model: $0["model"], benchmark: $0["bench"], itemKey: $0["key"],
                    domain: $0["domain"], prompt: $0["prompt"], response: $0["text"], seconds: $0["seconds"], scores: []
                )
            }
            let index = Dictionary(uniqueKeysWithValues: out.enumerated().map { ($1.responseID, $0) })
            if !out.isEmpty {
                let ids = out.map(\.responseID)
                for chunk in stride(from: 0, to: ids.count, by: 500).map({ Array(ids[$0..<min($0 + 500, ids.count)]) })
                {
                    let scoreRows = try Row.fetchAll(
                        db,
                        sql: """
                            SELECT response_id, scorer, dimension, value, status, reasoning FROM score
                            WHERE response_id IN (\(chunk.map { _ in "?" }.joined(separator: ","))) ORDER BY scorer, dimension
                            """, arguments: StatementArguments(chunk))
                    for s in scoreRows {
                        let rid: Int64 = s["response_id"]
                        out[index[rid]!].scores.append(
                            ScoreCell(
                                scorer: s["scorer"], dimension: s["dimension"], value: s["value"],
                                status: ScoreStatus(rawValue: s["status"]) ?? .failed, reasoning: s["reasoning"]))
                    }
                }
            }
            return out
        }
    }

    /// Items of `benchmark` where one model's score is at or above `threshold` and the other's
    /// below it (e.g. GSM8K `correct` with threshold 0.5, or a judge dimension with 5.5).
    public func flips(
        modelA: String, modelB: String, benchmark: String, scorer: String, dimension: String,
        threshold: Double = 0.5
    ) throws -> [ScoreFlip] {
        let rows = try promptRows(ResponseFilter(models: [modelA, modelB], benchmarks: [benchmark], limit: Int.max))
        var byItem: [String: (PromptRow?, PromptRow?)] = [:]
        for r in rows {
            var pair = byItem[r.itemKey] ?? (nil, nil)
            if r.model == modelA { pair.0 = r } else { pair.1 = r }
            byItem[r.itemKey] = pair
        }
        return byItem.keys.sorted().compactMap { key in
            guard let a = byItem[key]?.0, let b = byItem[key]?.1,
                let va = a.value(scorer, dimension), let vb = b.value(scorer, dimension),
                (va >= threshold) != (vb >= threshold)
            else { return nil }
            return ScoreFlip(
                itemKey: key, prompt: a.prompt, a: va, responseA: a.response, b: vb, responseB: b.response,
                aPasses: va >= threshold)
        }
    }
}
