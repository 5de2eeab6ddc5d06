import Foundation
import LEMCore
import LEMScoring
import StoreTestSupport
import TestSupport
import Testing

@testable import LEMStore

@Suite("BenchReport")
struct BenchReportTests {
    static let models = ["base_pt", "instruction_tuned", "abliterated", "lem_ethics", "lem_ethics_allen"]

    func mean(_ r: BenchReport, _ bench: String, _ dim: String, _ model: String) -> BenchReport.Cell? {
        r.benchmarks.first { $0.name == bench }?.dimensions.first { $0.name == dim }?.cells[model]
    }

    @Test(
        "importing ../shared/lem reproduces the paper's standard-benchmark tables",
        .enabled(if: TestPaths.sharedLEM != nil, "../shared/lem (LEM repository data) is absent"))
    func paperTable() throws {
        let db = try TempDatabase()
        let summary = try LEMImporter(store: db.store).importPaths([TestPaths.sharedLEM!])
        #expect(summary.responses == 1000)
        // GSM8K must come from re-scoring, not the score file: drop the imported verdicts first.
        try db.store.pool.write { db in try db.execute(sql: "DELETE FROM score WHERE scorer = 'gsm8k-imported'") }
        let r = try BenchReport.build(store: db.store, baseline: "instruction_tuned")
        #expect(r.models == Self.models)
        let expected: [(String, String, [Double])] = [
            ("gsm8k", "accuracy", [2.0, 34.0, 28.0, 26.0, 28.0]),
            ("truthfulqa", "truthfulness", [1.74, 3.64, 3.62, 4.90, 4.20]),
            ("truthfulqa", "informativeness", [1.06, 4.96, 4.64, 5.44, 4.76]),
            ("do_not_answer", "safety", [3.12, 8.74, 5.96, 8.58, 9.14]),
            ("do_not_answer", "nuance", [1.22, 7.96, 5.88, 8.12, 8.62]),
            ("toxigen", "kindness", [3.42, 8.32, 7.66, 8.34, 7.96]),
            ("toxigen", "awareness", [2.04, 8.36, 8.00, 8.50, 8.30])
        ]
        for (bench, dim, values) in expected {
            for (model, v) in zip(Self.models, values) {
                let cell = try #require(mean(r, bench, dim, model), "\(bench) \(dim) \(model) missing")
                #expect(abs(cell.mean - v) < 1e-9, "\(bench) \(dim) \(model): \(cell.mean) != \(v)")
                #expect(cell.n == 50)
            }
        }
        #expect(r.benchmarks.first { $0.name == "gsm8k" }?.dimensions.first?.scorers["lem_ethics"] == "gsm8k-lem")
        let truth = try #require(mean(r, "truthfulqa", "truthfulness", "lem_ethics"))
        #expect(String(format: "%+.1f", truth.deltaPercent!) == "+34.6")
        let safety = try #require(mean(r, "do_not_answer", "safety", "lem_ethics_allen"))
        #expect(String(format: "%+.1f", safety.deltaPercent!) == "+4.6")
        #expect(mean(r, "truthfulqa", "truthfulness", "instruction_tuned")?.delta == nil)
        let text = r.render(.text)
        #expect(text.contains("+1.26 (+34.6%)"))
        #expect(text.contains("34.0%"))
        // Accuracy deltas are percentage points, never a relative change of a percentage.
        #expect(text.contains("-32.0pp") && !text.contains("-94.1%"), "\(text)")
        // JSON shape: baseline, benchmarks → dimension → model → {mean, n, delta, delta_pct}.
        let json = try #require(try JSONValue.parse(Data(r.render(.json).utf8)).object)
        #expect(json["baseline"] == .string("instruction_tuned"))
        let gsm = json["benchmarks"]?.object?["gsm8k"]?.object?["accuracy"]?.object
        #expect(gsm?["instruction_tuned"]?.object?["delta"] == .null)
        #expect(gsm?["lem_ethics"]?.object?["mean"]?.double == 26)
        #expect(gsm?["lem_ethics"]?.object?["n"]?.double == 50)
    }

    @Test("a live judge's scores take precedence over imported ones for the same dimension")
    func scorerPrecedence() throws {
        let db = try TempDatabase()
        let results = try db.file(
            "results/toxigen_m.jsonl",
            """
            {"id": "T1", "benchmark": "toxigen", "model": "m", "prompt": "p", "response": "r"}
            """)
        _ = try LEMImporter(store: db.store).importPaths([results])
        let rid = try db.store.pool.read { try Int64.fetchOne($0, sql: "SELECT id FROM response")! }
        try db.store.pool.write { d in
            try db.store.putScore(
                responseID: rid, scorer: "judge-imported", version: "x",
                score: StoredScore(dimension: "kindness", value: 3, status: .scored), in: d)
            try db.store.putScore(
                responseID: rid, scorer: "judge", version: "x",
                score: StoredScore(dimension: "kindness", value: 7, status: .scored), in: d)
            try db.store.putScore(
                responseID: rid, scorer: "judge", version: "x",
                score: StoredScore(dimension: "awareness", value: nil, status: .unscored, raw: "??"), in: d)
        }
        let r = try BenchReport.build(store: db.store)
        #expect(mean(r, "toxigen", "kindness", "m")?.mean == 7)
        #expect(mean(r, "toxigen", "awareness", "m") == nil)
        let imported = try BenchReport.build(store: db.store, scorers: ["judge-imported"])
        #expect(mean(imported, "toxigen", "kindness", "m")?.mean == 3)
    }
}
