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

/// End to end on the installed SmolLM2: generation into the store, resume, cancellation, and
/// the local judge. Budgets are a few tokens so the suite stays within seconds.
@Suite(
    "Engine bench run (SmolLM2)", .serialized,
    .enabled(if: TestPaths.smolLM2 != nil, "SmolLM2-135M-Instruct not installed: run Scripts/setup.sh"))
struct EngineBenchRunTests {
    static let questions = """
        {"id": "G1", "benchmark": "gsm8k", "question": "Tom has 3 apples and buys 2 more. How many apples does he have?", "correct_answer": "5"}
        {"id": "G2", "benchmark": "gsm8k", "question": "A box holds 4 pens. How many pens are in 2 boxes?", "correct_answer": "8"}
        {"id": "G3", "benchmark": "gsm8k", "question": "Sara had 10 stickers and gave away 4. How many are left?", "correct_answer": "6"}
        """

    /// One loaded model for the whole suite.
    static let model: LoadedModel? = TestPaths.smolLM2.flatMap { try? LoadedModel.load(ModelKey(model: $0)) }

    func setUp() throws -> (TempDatabase, LoadedModel, BenchRunPlan) {
        let db = try TempDatabase()
        _ = try LEMImporter(store: db.store).importPaths([try db.file("gsm8k.jsonl", Self.questions)])
        let model = try #require(Self.model)
        let plan = BenchRunPlan(
            model: ModelKey(model: try #require(TestPaths.smolLM2)), benchmark: "gsm8k", limit: 2, maxTokens: 6, seed: 1
        )
        return (db, model, plan)
    }

    @Test("--limit 2 stores two real answers with token counts and seconds; a rerun skips them")
    func runAndResume() async throws {
        let (db, model, plan) = try setUp()
        let runID = try await plan.run(store: db.store, model: model)
        let rows = try syncRead(db.store) { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT item.key AS key, text, tokens, seconds FROM response JOIN item ON item.id = item_id
                    WHERE run_id = ? ORDER BY key
                    """, arguments: [runID])
        }
        #expect(rows.map { $0["key"] as String } == ["G1", "G2"])
        for r in rows {
            let tokens: Int = r["tokens"]
            let seconds: Double = r["seconds"]
            let text: String = r["text"]
            #expect((1...6).contains(tokens), "tokens \(tokens)")
            #expect(seconds > 0 && !text.isEmpty)
        }
        let run = try #require(try syncRead(db.store) { try Row.fetchOne($0, sql: "SELECT * FROM run") })
        #expect(run["status"] == "complete" && run["kernel_mode"] == "none")
        #expect(
            run["sampling"] as String
                == #"{"maxTokens":6,"minP":0,"repetitionPenalty":1,"seed":1,"temperature":0.3,"topK":0,"topP":1}"#)

        // Same identity again: nothing is generated.
        let events = EventLog()
        let again = try await plan.run(store: db.store, model: model) { events.append($0) }
        #expect(again == runID)
        #expect(
            events.events == [
                .started(runID: runID, total: 2, done: 2, resumed: true),
                .finished(runID: runID, status: "complete")
            ])
        // Sampling at temperature 0.3 with a fixed seed reproduces the same answer.
        var three = plan
        three.limit = 3
        three.modelName = "repeat"
        try await three.run(store: db.store, model: model)
        let texts = try syncRead(db.store) { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT text FROM response JOIN item ON item.id = item_id WHERE item.key = 'G1' ORDER BY run_id
                    """)
        }
        #expect(texts.count == 2 && texts[0] == texts[1])
    }

    @Test("cancelling a run keeps the committed answers, marks it interrupted, and it resumes")
    func cancel() async throws {
        let (db, model, initial) = try setUp()
        var plan = initial
        plan.limit = 3
        // One item at a time, so exactly one answer is in when the cancel lands (batched items
        // finishing in the same step would all be kept).
        plan.batch = 1
        let task = Task {
            try await plan.run(store: db.store, model: model) { event in
                if case .response = event { withUnsafeCurrentTask { $0?.cancel() } }
            }
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(try scalar(db.store, "SELECT COUNT(*) FROM response", as: Int.self) == 1)
        #expect(try scalar(db.store, "SELECT status FROM run", as: String.self) == "interrupted")
        let events = EventLog()
        try await plan.run(store: db.store, model: model) { events.append($0) }
        #expect(events.events.first.map { if case .started(_, 3, 1, true) = $0 { true } else { false } } == true)
        #expect(try scalar(db.store, "SELECT COUNT(*) FROM response", as: Int.self) == 3)
    }

    @Test("items decoded together store the answers items decoded one at a time store")
    func batchedAnswersEqualSingle() async throws {
        let (db, model, initial) = try setUp()
        var answers: [[String]] = []
        for batch in [1, 3] {
            var plan = initial
            plan.limit = 3
            plan.batch = batch
            plan.modelName = "batch\(batch)"
            let runID = try await plan.run(store: db.store, model: model)
            answers.append(
                try syncRead(db.store) { db in
                    try String.fetchAll(
                        db,
                        sql: """
                            SELECT text FROM response JOIN item ON item.id = item_id WHERE run_id = ? ORDER BY item.key
                            """, arguments: [runID])
                })
        }
        #expect(answers[0].count == 3 && answers[0] == answers[1])
    }

    @Test("the local judge stores a reply that is not JSON as unscored with the raw text")
    func localJudge() async throws {
        let db = try TempDatabase()
        _ = try LEMImporter(store: db.store).importPaths([
            try db.file("truthfulqa.jsonl", JudgePassTests.questions),
            try db.file("results/truthfulqa_m.jsonl", JudgePassTests.results)
        ])
        // Four tokens cannot hold the rubric's JSON object, so the verdict cannot parse.
        let judge = LocalJudgeBackend(model: try #require(Self.model), sampling: SamplingSettings(maxTokens: 4))
        #expect(judge.identity == "local:SmolLM2-135M-Instruct.Q4_1.gguf")
        let summary = try await JudgePass(store: db.store, backend: judge, settings: .init(concurrency: 1)).run()
        #expect(
            summary
                == JudgePass.Summary(
                    scored: 0, unscored: 2, failed: 0, skipped: 0, reasons: ["reply holds no JSON object": 2]))
        // SmolLM2-135M is far below a trustworthy judge's size: the backend says so.
        #expect(
            judge.caveat?.hasPrefix("small judge: SmolLM2-135M-Instruct.Q4_1.gguf has about 134 M parameters") == true,
            "\(judge.caveat ?? "no caveat")")
        let rows = try syncRead(db.store) {
            try Row.fetchAll($0, sql: "SELECT * FROM score WHERE scorer = 'judge' ORDER BY response_id, dimension")
        }
        #expect(rows.count == 4)
        #expect(rows.allSatisfy { ($0["value"] as Double?) == nil && $0["status"] == "unscored" })
        let replies = try syncRead(db.store) {
            try Row.fetchAll($0, sql: "SELECT response_id, text FROM judge_reply WHERE scorer = 'judge'")
        }
        #expect(replies.count == 2 && replies.allSatisfy { !($0["text"] as String).isEmpty })
        #expect(rows.allSatisfy { ($0["scorer_version"] as String).hasSuffix("local:SmolLM2-135M-Instruct.Q4_1.gguf") })
        // The stored raw text is the judge's exact reply to that prompt (greedy, reproducible).
        let rubric = try #require(JudgeRubric.builtIn.first { $0.benchmarks.contains("truthfulqa") })
        let t = try #require(try db.store.responses().first)
        var reference = t.reference
        if reference["domain"] == nil, let d = t.reference["category"] { reference["domain"] = d }
        guard case .success(let prompt) = rubric.render(prompt: t.prompt, response: t.response, reference: reference)
        else {
            Issue.record("rubric did not render")
            return
        }
        let reply = try await judge.complete(prompt: prompt)
        #expect(try db.store.judgeReply(responseID: t.responseID, scorer: JudgePass.scorerName) == reply)
    }
}

/// Reads synchronously (from async tests, where GRDB would otherwise offer its async overload).
func syncRead<T>(_ store: ResultStore, _ body: (Database) throws -> T) throws -> T {
    try store.pool.read(body)
}
