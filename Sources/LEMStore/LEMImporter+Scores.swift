import Foundation
import GRDB
import LEMCore
import LEMScoring

extension LEMImporter {
    /// The scorer name given to judge scores read from a score file.
    public static let importedJudgeScorer = "judge-imported"
    /// The scorer name given to GSM8K verdicts read from a score file (reports re-score instead).
    public static let importedGSM8KScorer = "gsm8k-imported"

    /// Imports `{"scores": {bench: {model: {id: {dimension: value, …, "reasoning": text}}}}}`.
    ///
    /// Every model key must already have responses for that benchmark and every id an imported
    /// response; numbers are stored as scored, booleans as 1/0, anything else as unscored with
    /// the raw JSON kept.
    func importScores(_ file: URL, _ data: Data) throws -> Int {
        let value: JSONValue
        do { value = try JSONValue.parse(data) } catch {
            throw LocatedError(file.path, "not valid JSON (\(Self.describe(error)))")
        }
        guard let benches = value.object?["scores"]?.object else {
            throw LocatedError(file.path, "expected {\"scores\": {benchmark: {model: {id: {...}}}}}")
        }
        return try store.write { db in
            var count = 0
            for (bench, modelsValue) in benches.sorted(by: { $0.key < $1.key }) {
                guard let models = modelsValue.object else {
                    throw LocatedError("\(file.path): scores.\(bench)", "expected an object keyed by model")
                }
                for (model, itemsValue) in models.sorted(by: { $0.key < $1.key }) {
                    let at = "\(file.path): scores.\(bench).\(model)"
                    guard let items = itemsValue.object else {
                        throw LocatedError(at, "expected an object keyed by item id")
                    }
                    guard
                        let runID = try Int64.fetchOne(
                            db,
                            sql: """
                                SELECT run.id FROM run JOIN model ON model.id = run.model_id
                                WHERE model.name = ? AND run.benchmark = ? ORDER BY run.id DESC LIMIT 1
                                """,
                            arguments: [model, bench])
                    else {
                        throw LocatedError(
                            at,
                            "unknown model key `\(model)`: no responses for it in benchmark `\(bench)`; "
                                + "import results/\(bench)_\(model).jsonl first")
                    }
                    let scorer = bench == "gsm8k" ? Self.importedGSM8KScorer : Self.importedJudgeScorer
                    for (key, entryValue) in items.sorted(by: { $0.key < $1.key }) {
                        guard let entry = entryValue.object else {
                            throw LocatedError("\(at).\(key)", "expected an object of dimension scores")
                        }
                        guard
                            let responseID = try Int64.fetchOne(
                                db,
                                sql: """
                                    SELECT response.id FROM response JOIN item ON item.id = response.item_id
                                    WHERE response.run_id = ? AND item.key = ?
                                    """,
                                arguments: [runID, key])
                        else {
                            throw LocatedError(
                                "\(at).\(key)", "unknown item `\(key)`: no response by `\(model)` stored")
                        }
                        var reasoning = entry["reasoning"]?.string
                        if scorer == Self.importedGSM8KScorer {
                            reasoning =
                                "extracted=\(entry["extracted"]?.text ?? "none") expected=\(entry["expected"]?.text ?? "")"
                        }
                        for (dimension, v) in entry.sorted(by: { $0.key < $1.key }) {
                            if dimension == "reasoning" || dimension == "extracted" || dimension == "expected" {
                                continue
                            }
                            let stored: StoredScore
                            switch v {
                            case .int, .double:
                                let d = v.double ?? 0
                                stored = StoredScore(
                                    dimension: dimension, value: d, status: .scored, reasoning: reasoning)
                            case .bool(let b):
                                stored = StoredScore(
                                    dimension: dimension, value: b ? 1 : 0, status: .scored, reasoning: reasoning)
                            default:
                                stored = StoredScore(
                                    dimension: dimension, value: nil, status: .unscored,
                                    reasoning: reasoning, raw: v.jsonText())
                            }
                            try store.putScore(
                                responseID: responseID, scorer: scorer, version: file.lastPathComponent,
                                score: stored, in: db)
                            count += 1
                        }
                    }
                }
            }
            return count
        }
    }
}
