import Foundation
import GRDB
import LEMCore
import LEMEngine
import LEMScoring
import LEMStore
import StoreTestSupport
import TestSupport
import Testing

@testable import LEMEval

/// `--adapter-path` on the committed tiny Llama fixture and its PEFT LoRA (no installed model needed).
@Suite("Engine bench run with an adapter (tiny fixture)")
struct AdapterBenchRunTests {
    @Test("a run with an adapter loads it, names the model after it and records its path")
    func adapterRun() async throws {
        let db = try TempDatabase.mini()
        let base = TestPaths.fixture("engine/llama3_tiny")
        let adapter = TestPaths.fixture("adapters/llama3_lora_partial")
        let plan = BenchRunPlan(
            model: ModelKey(model: base, adapter: adapter), benchmark: "mini", limit: 2, maxTokens: 3, seed: 5)
        let model = try LoadedModel.load(plan.model)
        #expect(model.key.storedName == "llama3_tiny+llama3_lora_partial")
        let runID = try await plan.run(store: db.store, model: model)
        let run = try #require(
            try syncRead(db.store) { try Row.fetchOne($0, sql: "SELECT * FROM run WHERE id = ?", arguments: [runID]) })
        #expect(run["adapter"] == adapter.standardizedFileURL.path)
        #expect(
            try scalar(db.store, "SELECT name FROM model WHERE id = \(run["model_id"] as Int64)", as: String.self)
                == "llama3_tiny+llama3_lora_partial")
        let tokens = try syncRead(db.store) {
            try Int.fetchAll($0, sql: "SELECT tokens FROM response WHERE run_id = ?", arguments: [runID])
        }
        #expect(tokens.count == 2 && tokens.allSatisfy { (0...3).contains($0) })
        // Without the adapter the same plan is a different run identity (and model name).
        var plain = plan
        plain.model = ModelKey(model: base)
        #expect(plain.spec.model == "llama3_tiny" && plain.spec.adapter == nil)
        // A folder that is not an adapter is a clear error naming it.
        var bad = plan
        bad.model = ModelKey(model: base, adapter: TestPaths.fixture("engine/qwen2_tiny"))
        #expect(throws: (any Error).self) { try LoadedModel.load(bad.model) }
    }
}
