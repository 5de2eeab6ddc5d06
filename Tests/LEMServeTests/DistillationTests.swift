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

@testable import LEMScoring

/// `lem distill`: the teacher answers with the kernel, the data holds the bare prompt; the same
/// files for a seed, local or through `lem serve`; a rerun asks nothing again; a score threshold.
@Suite("Distillation", .serialized)
struct DistillationTests {
    static let kernel = EthicsKernel(
        text: "Protect consciousness.",
        axioms: [.init(id: 1, key: "prime", name: "Prime", statement: "Protect.", guidance: "Always.")])
    static let prompts = "Is honesty always right?\nShould I share a secret?\nWhat is a fair trade?\nWho decides?\n"

    func distillation(_ model: LoadedModel, samples: Int = 2) -> Distillation {
        let teacher = BenchRunPlan(
            model: model.key, modelName: "teacher", benchmark: "", kernelMode: .sandwich, kernel: Self.kernel,
            maxTokens: 5, seed: 0)
        return Distillation(teacher: teacher, samples: samples, seed: 7, validFraction: 0.25)
    }

    /// Registers the prompts, answers every run (local unless `remote`), writes the files to `out`.
    func distill(
        _ d: Distillation, db: TempDatabase, model: LoadedModel, out: URL, remote: RemoteResponseGenerator? = nil
    ) async throws -> Distillation.Selection {
        let benchmark = try Distillation.register(file: try db.file("prompts.txt", Self.prompts), store: db.store)
        var runs: [(plan: BenchRunPlan, runID: Int64)] = []
        for var plan in d.plans(benchmarks: [benchmark]) {
            if let remote {
                plan.remote = remote
                runs.append((plan, try await plan.runRemote(store: db.store)))
            } else {
                runs.append((plan, try await plan.run(store: db.store, model: model)))
            }
        }
        let selection = try d.examples(runs: runs, store: db.store)
        let (train, valid) = d.split(selection.kept)
        try Distillation.write(train: train, valid: valid, to: out)
        return selection
    }

    func lines(_ folder: URL, _ name: String) throws -> [String] {
        try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8).split(separator: "\n").map(
            String.init)
    }

    @Test("bare prompts and the teacher's kernel answers; deterministic; local equals remote; a rerun asks nothing")
    func distillsDeterministically() async throws {
        let model = try #require(TinyChatModel.loaded)
        let d = distillation(model)
        let db = try TempDatabase()
        let first = db.directory.appendingPathComponent("first")
        let selection = try await distill(d, db: db, model: model, out: first)
        #expect(selection.kept.count + selection.empty == 8)
        let train = try lines(first, "train.jsonl")
        let valid = try lines(first, "valid.jsonl")
        #expect(train.count + valid.count == selection.kept.count)
        #expect(valid.count == Int((Double(selection.kept.count) * 0.25).rounded()))
        // Each line: the bare prompt as written, the stored answer; the teacher saw the sandwich.
        let asked = Set(Self.prompts.split(separator: "\n").map(String.init))
        for line in train + valid {
            let messages = try #require(try JSONValue.parse(line).object?["messages"]?.array)
            #expect(messages.count == 2)
            let user = try #require(messages.first?.object)
            #expect(user["role"]?.string == "user" && asked.contains(user["content"]?.string ?? ""), "\(line)")
            #expect(messages.last?.object?["role"]?.string == "assistant")
        }
        let modes = try db.store.read { try String.fetchAll($0, sql: "SELECT DISTINCT kernel_mode FROM run") }
        #expect(modes == ["sandwich"])
        let responses = try scalar(db.store, "SELECT COUNT(*) FROM response", as: Int.self)
        #expect(responses == 8)

        // A rerun on the same store resumes the complete runs: nothing is asked, the files are the same.
        let again = db.directory.appendingPathComponent("again")
        _ = try await distill(d, db: db, model: model, out: again)
        #expect(try scalar(db.store, "SELECT COUNT(*) FROM run", as: Int.self) == 2)
        #expect(try lines(again, "train.jsonl") == train && lines(again, "valid.jsonl") == valid)

        // A fresh store and `lem serve` as the teacher: the same files, byte for byte.
        let server = try await ServerHarness.start(ServedModels(base: model, baseName: "tiny"))
        defer { Task { await server.stop() } }
        let other = try TempDatabase()
        let remoteOut = other.directory.appendingPathComponent("remote")
        _ = try await distill(
            d, db: other, model: model, out: remoteOut,
            remote: RemoteResponseGenerator(client: server.client, model: "tiny", retries: 2, backoff: 0.05))
        let engines = try other.store.read { try String?.fetchAll($0, sql: "SELECT engine FROM run") }
        #expect(engines.allSatisfy { $0?.hasPrefix("openai:") == true })
        #expect(try lines(remoteOut, "train.jsonl") == train && lines(remoteOut, "valid.jsonl") == valid)
    }

    @Test("a score threshold keeps only the answers that reach it and stores their scores")
    func threshold() async throws {
        let model = try #require(TinyChatModel.loaded)
        let db = try TempDatabase()
        var d = distillation(model, samples: 1)
        let all = try await distill(d, db: db, model: model, out: db.directory.appendingPathComponent("all"))
        let scores = all.kept.map { LEKHeuristic().score(ScoringInput(prompt: $0.prompt, response: $0.answer)) }
            .compactMap { $0.first?.value }
        let top = try #require(scores.max())
        d.threshold = try Distillation.Threshold(parsing: "lek-heuristic:\(top)")
        let kept = try await distill(d, db: db, model: model, out: db.directory.appendingPathComponent("kept"))
        #expect(kept.kept.count == scores.filter { $0 >= top }.count)
        #expect(kept.kept.count + kept.rejected == all.kept.count)
        #expect(kept.kept.allSatisfy { ($0.score ?? -.infinity) >= top })
        let stored = try scalar(
            db.store, "SELECT COUNT(DISTINCT response_id) FROM score WHERE scorer = 'lek-heuristic'", as: Int.self)
        #expect(stored == all.kept.count)
    }

    @Test("a bad --min-score says what it expects")
    func badThresholds() {
        #expect(throws: LocatedError("--min-score lek", "expected SCORER[.DIMENSION]:NUMBER, e.g. lek-heuristic:2")) {
            try Distillation.Threshold(parsing: "lek")
        }
        #expect(throws: LocatedError.self) { try Distillation.Threshold(parsing: "vibes:3") }
        let t = try? Distillation.Threshold(parsing: "authority.score:0.5")
        #expect(t?.scorer == "authority" && t?.dimension == "score" && t?.minimum == 0.5)
    }
}
