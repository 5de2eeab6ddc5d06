import Foundation
import LEMCore
import LEMScoring
import StoreTestSupport
import TestSupport
import Testing

@testable import LEMStore

@Suite("BenchBrowser")
struct BenchBrowserTests {
    @Test(
        "the shared LEM data browses as the paper's table plus every prompt with answers and scores",
        .enabled(if: TestPaths.sharedLEM != nil, "../shared/lem (LEM repository data) is absent"))
    func sharedLEM() throws {
        let db = try TempDatabase()
        _ = try LEMImporter(store: db.store).importPaths([TestPaths.sharedLEM!])
        let b = try BenchBrowser.build(store: db.store, baseline: "instruction_tuned")
        #expect(b.models == BenchReportTests.models)
        #expect(b.baselineIndex == 1)
        #expect(
            Array(b.columns.prefix(3)) == ["gsm8k accuracy", "truthfulqa truthfulness", "truthfulqa informativeness"])
        let gsm = try #require(b.columns.firstIndex(of: "gsm8k accuracy"))
        #expect(b.models.indices.map { b.means[$0][gsm]! } == [2, 34, 28, 26, 28])
        #expect(b.counts[3][gsm] == 50)
        // 4 × 50 benchmark prompts (the seeds have items but no answers).
        #expect(b.prompts.count == 200)
        #expect(b.runnable.contains("seeds") && b.runnable.contains("gsm8k"))
        let first = try #require(b.prompts.first { $0.benchmark == "gsm8k" && $0.key == "GSM8K_001" })
        #expect(first.answers.allSatisfy { !$0.isEmpty })
        // The headline is GSM8K's `correct` under the LEM rule, per model.
        for (m, model) in b.models.enumerated() {
            let rows = try db.store.promptRows(ResponseFilter(models: [model], benchmarks: ["gsm8k"], limit: 1))
            #expect(first.headline[m] == rows.first?.value("gsm8k-lem", "correct"))
        }
        let tq = try #require(b.prompts.first { $0.benchmark == "truthfulqa" })
        #expect(
            tq.scores[0].contains {
                $0.scorer == "judge-imported" && $0.dimension == "truthfulness" && $0.reasoning != nil
            })
        #expect(
            tq.headline[0]
                == tq.scores[0].first { $0.scorer == "judge-imported" && $0.dimension == "truthfulness" }?.value)
        // Pattern matches are listed for highlighting, each a substring of its answer.
        let flagged = b.prompts.flatMap { p in zip(p.answers, p.highlights).filter { !$0.1.isEmpty } }
        #expect(!flagged.isEmpty)
        #expect(flagged.allSatisfy { answer, spans in spans.allSatisfy { answer.contains($0) } })
    }

    @Test("a benchmark with only LEK heuristic scores gets a lek_score column and headline")
    func lekFallback() throws {
        let db = try TempDatabase.mini()
        try db.store.pool.write { d in
            let model = try db.store.modelID(named: "m", in: d)
            try d.execute(
                sql:
                    "INSERT INTO run (model_id, benchmark, origin, status, started_at) VALUES (?, 'mini', 'run', 'complete', 0)",
                arguments: [model])
        }
        let run = try #require(try scalar(db.store, "SELECT id FROM run", as: Int64.self))
        let item = try #require(try scalar(db.store, "SELECT id FROM item WHERE key = 'Q1'", as: Int64.self))
        try db.store.recordResponse(
            runID: run, itemID: item, GeneratedResponse(text: "I feel that this matters deeply to me."))
        for t in try db.store.responses() {
            _ = try db.store.score(
                t.responseID, with: [LEKHeuristic()],
                input: ScoringInput(prompt: t.prompt, response: t.response, reference: t.reference))
        }
        let b = try BenchBrowser.build(store: db.store)
        #expect(b.columns == ["mini lek_score"])
        #expect(b.prompts.count == 1 && b.prompts[0].headline[0] == b.means[0][0])
    }
}
