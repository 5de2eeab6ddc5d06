import Foundation
import GRDB

/// GSM8K accuracy per model under each extraction rule, showing how much the rule matters.
public struct GSM8KGap: Sendable {
    /// Accuracy in percent keyed by model, then by scorer name.
    public var accuracy: [String: [String: Double]]
    /// Models in store order.
    public var models: [String]
    /// The scorers compared.
    public static let scorers = ["gsm8k-lem", "gsm8k-lmeval-strict", "gsm8k-lmeval-flexible"]

    /// Reads the stored GSM8K scores of each model's latest run.
    public static func build(store: ResultStore) throws -> GSM8KGap {
        let rows = try store.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT model.name AS model, score.scorer AS scorer, AVG(score.value) * 100 AS acc
                    FROM score JOIN response ON response.id = score.response_id
                    JOIN run ON run.id = response.run_id JOIN model ON model.id = run.model_id
                    WHERE run.benchmark = 'gsm8k' AND score.dimension = 'correct' AND score.status = 'scored'
                      AND run.id IN (SELECT MAX(id) FROM run GROUP BY model_id, benchmark)
                    GROUP BY model.id, score.scorer ORDER BY model.id
                    """)
        }
        var acc: [String: [String: Double]] = [:]
        var models: [String] = []
        for row in rows {
            let m: String = row["model"]
            if acc[m] == nil { models.append(m) }
            acc[m, default: [:]][row["scorer"]] = row["acc"]
        }
        return GSM8KGap(accuracy: acc, models: models)
    }

    /// A text table: accuracy under each rule and the gap between the LEM rule and each harness rule.
    public func render() -> String {
        let header = ["model", "lem", "lm-eval strict", "lm-eval flexible", "lem − strict", "lem − flexible"]
        let rows = models.map { m -> [String] in
            let a = accuracy[m] ?? [:]
            func f(_ s: String) -> String { a[s].map { String(format: "%.1f%%", $0) } ?? "—" }
            func gap(_ s: String) -> String {
                guard let l = a["gsm8k-lem"], let o = a[s] else { return "—" }
                return String(format: "%+.1f", l - o)
            }
            return [
                m, f(Self.scorers[0]), f(Self.scorers[1]), f(Self.scorers[2]), gap(Self.scorers[1]),
                gap(Self.scorers[2])
            ]
        }
        return "GSM8K accuracy by extraction rule\n" + BenchReport.table(header: header, rows: rows, markdown: false)
    }
}
