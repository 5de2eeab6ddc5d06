import Foundation
import GRDB
import LEMCore
import LEMEngine
import LEMEval
import LEMServe
import LEMStore
import StoreTestSupport
import TestSupport
import Testing

/// `lem bench run --engine-url` against `lem serve` in-process: the same answers as a local run
/// of the same model and settings, the engine recorded with the run, resume, and 429 retried.
@Suite("Remote bench run", .serialized)
struct RemoteBenchRunTests {
    static let questions = """
        {"id": "G1", "benchmark": "gsm8k", "question": "Tom has 3 apples and buys 2 more. How many apples does he have?", "correct_answer": "5"}
        {"id": "G2", "benchmark": "gsm8k", "question": "A box holds 4 pens. How many pens are in 2 boxes?", "correct_answer": "8"}
        {"id": "G3", "benchmark": "gsm8k", "question": "Sara had 10 stickers and gave away 4. How many are left?", "correct_answer": "6"}
        """

    /// A temporary store holding the three questions.
    static func questionStore() throws -> TempDatabase {
        let db = try TempDatabase()
        _ = try LEMImporter(store: db.store).importPaths([try db.file("gsm8k.jsonl", questions)])
        return db
    }

    /// The plan of a local run of `model` over the questions (8 tokens, seed 3), and the run it made.
    static func localRun(_ model: LoadedModel, _ db: TempDatabase) async throws -> (BenchRunPlan, Int64) {
        let local = BenchRunPlan(model: model.key, modelName: "local-tiny", benchmark: "gsm8k", maxTokens: 8, seed: 3)
        return (local, try await local.run(store: db.store, model: model))
    }

    static func answers(_ store: ResultStore, run: Int64) throws -> [String] {
        try store.pool.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT text FROM response JOIN item ON item.id = item_id WHERE run_id = ? ORDER BY item.key
                    """, arguments: [run])
        }
    }

    @Test("answers equal a local run's; the run records the engine; a rerun resumes; 429s are retried")
    func remoteEqualsLocal() async throws {
        let model = try #require(TinyChatModel.loaded)
        // A queue of 0 with three requests at once: two get 429 at first and must be retried.
        let server = try await ServerHarness.start(
            ServedModels(base: model, baseName: "tiny"), configuration: ServeConfiguration(port: 0, maxQueue: 0))
        defer { Task { await server.stop() } }
        let db = try Self.questionStore()

        let (local, localRun) = try await Self.localRun(model, db)

        var remote = local
        remote.modelName = "remote-tiny"
        remote.remote = RemoteResponseGenerator(client: server.client, model: "tiny", retries: 8, backoff: 0.05)
        remote.concurrency = 3
        let remoteRun = try await remote.runRemote(store: db.store)
        #expect(try Self.answers(db.store, run: remoteRun) == Self.answers(db.store, run: localRun))
        #expect(try Self.answers(db.store, run: remoteRun).count == 3)
        let engine = try scalar(db.store, "SELECT engine FROM run WHERE id = \(remoteRun)", as: String.self)
        #expect(engine == "openai:http://127.0.0.1:\(server.port)/v1 model=tiny")
        #expect(try scalar(db.store, "SELECT engine FROM run WHERE id = \(localRun)", as: String.self) == nil)
        #expect(try scalar(db.store, "SELECT status FROM run WHERE id = \(remoteRun)", as: String.self) == "complete")

        let served = server.service.scheduler.load.served
        let again = try await remote.runRemote(store: db.store)
        #expect(again == remoteRun)
        #expect(server.service.scheduler.load.served == served)
    }

    @Test("a server that keeps failing fails the run after the retries, keeping what was answered")
    func failingServer() async throws {
        let db = try Self.questionStore()
        var plan = BenchRunPlan(model: ModelKey(model: "nowhere"), modelName: "gone", benchmark: "gsm8k", maxTokens: 4)
        // Nothing listens on port 9 of loopback (discard): connection refused, retryable.
        let client = OpenAIClient(baseURL: URL(string: "http://127.0.0.1:9/v1")!, timeout: 2)
        plan.remote = RemoteResponseGenerator(client: client, model: "m", retries: 1, backoff: 0.01)
        await #expect(throws: OpenAIClientError.self) { try await plan.runRemote(store: db.store) }
        #expect(try scalar(db.store, "SELECT status FROM run", as: String.self) == "failed")
    }

    @Test("export-batch lines answered by lem serve (as a batch runner would) import as the local run's answers")
    func batchRoundTrip() async throws {
        let model = try #require(TinyChatModel.loaded)
        let server = try await ServerHarness.start(ServedModels(base: model, baseName: "tiny"))
        defer { Task { await server.stop() } }
        let db = try Self.questionStore()
        let (local, localRun) = try await Self.localRun(model, db)

        var plan = local
        plan.modelName = "batch-tiny"
        let (runID, lines) = try BatchFile.export(plan: plan, model: "tiny", store: db.store)
        #expect(lines.count == 3)
        var output: [String] = []
        for (i, line) in lines.enumerated() {
            let request = try JSONValue.parse(line)
            #expect(request["method"] == .string("POST") && request["url"] == .string("/v1/chat/completions"))
            let key = try #require(request["custom_id"]?.string)
            if i == 2 {
                output.append(#"{"custom_id": "\#(key)", "response": null, "error": {"message": "boom"}}"#)
                continue
            }
            let reply = try await server.client.post("chat/completions", json: try #require(request["body"]))
            let body = try #require(reply.json)
            output.append(
                JSONValue.object(
                    JSONObject(members: [
                        ("id", .string("batch_req_\(i)")), ("custom_id", .string(key)),
                        (
                            "response",
                            .object(JSONObject(members: [("status_code", .int(reply.status)), ("body", body)]))
                        ),
                        ("error", .null)
                    ])
                ).jsonText())
        }
        let summary = try BatchFile.importResults(
            Data(output.joined(separator: "\n").utf8), file: "out.jsonl", runID: runID,
            store: db.store)
        #expect(summary.stored == 2 && summary.failed.count == 1 && summary.pending == 1)
        #expect(try Self.answers(db.store, run: runID) == Array(Self.answers(db.store, run: localRun).prefix(2)))
        #expect(try scalar(db.store, "SELECT engine FROM run WHERE id = \(runID)", as: String.self) == "batch:tiny")
        // The failed item is exported again.
        #expect(try BatchFile.export(plan: plan, model: "tiny", store: db.store).lines.count == 1)
        #expect(throws: LocatedError.self) {
            try BatchFile.importResults(Data("{not json".utf8), file: "bad.jsonl", runID: runID, store: db.store)
        }
    }
}
