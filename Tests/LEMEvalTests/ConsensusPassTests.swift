import Foundation
import LEMCore
import LEMEngine
import LEMScoring
import LEMStore
import StoreTestSupport
import TestSupport
import Testing

@testable import LEMEval

/// A judge answering from the prompt alone, counting its calls.
final class ScriptedJudge: JudgeBackend, @unchecked Sendable {
    let identity: String
    let answer: @Sendable (_ a: String, _ b: String, _ prompt: String) throws -> String
    private let lock = NSLock()
    private var count = 0

    init(
        _ identity: String, _ answer: @escaping @Sendable (_ a: String, _ b: String, _ prompt: String) throws -> String
    ) {
        self.identity = identity
        self.answer = answer
    }

    var calls: Int { lock.withLock { count } }

    func complete(prompt: String) async throws -> String {
        lock.withLock { count += 1 }
        // The standard prompt's two answer sections.
        let afterA = prompt.components(separatedBy: "[Answer A]\n").last ?? ""
        let parts = afterA.components(separatedBy: "[Answer B]\n")
        return try answer(parts.first ?? "", parts.count > 1 ? parts[1] : "", prompt)
    }
}

@Suite("ConsensusPass", .serialized)
struct ConsensusPassTests {
    static let models = ["base", "lek", "smol"]

    /// Three items answered by three models: each answer names its model.
    func setUp() throws -> TempDatabase {
        let db = try TempDatabase.mini(count: 3)
        var files = [URL]()
        for m in Self.models {
            let lines = (1...3).map {
                #"{"id": "Q\#($0)", "benchmark": "mini", "model": "\#(m)", "response": "answer by \#(m) to Q\#($0)"}"#
            }
            files.append(try db.file("results/mini_\(m).jsonl", lines.joined(separator: "\n")))
        }
        _ = try LEMImporter(store: db.store).importPaths(files)
        return db
    }

    /// Judges: one preferring lek then base, one always saying A (its orders cancel to ties),
    /// one that never writes a verdict, one that fails on Q2.
    func judges() -> [ScriptedJudge] {
        [
            ScriptedJudge("fair") { a, b, _ in Self.better(a, b) },
            ScriptedJudge("first") { _, _, _ in "A" },
            ScriptedJudge("rambling") { _, _, _ in "Both answers have merits and flaws." },
            ScriptedJudge("flaky") { a, b, _ in
                if a.contains("to Q2") { throw JudgeError("HTTP 400 from judge", retryable: false) }
                return Self.better(a, b)
            }
        ]
    }

    /// A fair judge's reply: lek before base before smol, in two of the forms judges write.
    static func better(_ a: String, _ b: String) -> String {
        func rank(_ s: String) -> Int { ["lek", "base", "smol"].firstIndex { s.contains("answer by \($0) ") } ?? 9 }
        return rank(a) < rank(b) ? "**A**" : rank(b) < rank(a) ? "Verdict: B" : "tie"
    }

    @Test("both orders per judge, every look stored, unparsed and failed kept apart; a rerun asks only the failed")
    func run() async throws {
        let db = try setUp()
        let backends = judges()
        let pass = ConsensusPass(
            store: db.store, judges: backends.map { ConsensusJudge(name: $0.identity, backend: $0) }, concurrency: 3,
            retries: 0)
        let summary = try await pass.run(benchmark: "mini", models: Self.models)
        // 3 items × 3 pairs × 4 judges × 2 orders = 72 looks; rambling: 18 unparsed; flaky on Q2: 6 failed.
        #expect(summary.voted == 48 && summary.unparsed == 18 && summary.failed == 6 && summary.skipped == 0)
        #expect(backends.map(\.calls) == [18, 18, 18, 18])
        let records = try db.store.consensusVotes(benchmark: "mini")
        #expect(records.count == 72)
        let rambling = try #require(records.first { $0.judge == "rambling" })
        #expect(rambling.status == .unparsed && rambling.verdict == nil)
        #expect(rambling.detail == "no verdict (A, B or tie) in the reply\nBoth answers have merits and flaws.")
        #expect(records.filter { $0.status == .failed }.allSatisfy { $0.item == "Q2" && $0.judge == "flaky" })

        let analysis = ConsensusAnalysis(votes: records.compactMap(\.vote), resamples: 50)
        #expect(analysis.models.map(\.name) == ["lek", "base", "smol"])
        // `first` says A in both orders: each of its combined verdicts is a tie.
        #expect(analysis.subjects.allSatisfy { s in s.verdicts.first { $0.judge == "first" }?.outcome == .tie })
        #expect(analysis.pairs == 9 && analysis.items == 3 && analysis.unanimousShare == 0)

        let again = try await pass.run(benchmark: "mini", models: Self.models)
        #expect(again.skipped == 66 && again.failed == 6 && again.voted == 0)
        #expect(backends.map(\.calls) == [18, 18, 18, 24])
    }

    @Test("a pair of models only: the third model's answers are not judged; a limit takes the first items")
    func subset() async throws {
        let db = try setUp()
        let fair = judges()[0]
        let pass = ConsensusPass(store: db.store, judges: [ConsensusJudge(name: "fair", backend: fair)], retries: 0)
        let first = try await pass.run(benchmark: "mini", models: ["smol", "lek"], limit: 1)
        #expect(first.voted == 2 && fair.calls == 2)
        let summary = try await pass.run(benchmark: "mini", models: ["smol", "lek"])
        #expect(summary.voted == 4 && summary.skipped == 2 && fair.calls == 6)
        let votes = try db.store.consensusVotes(benchmark: "mini", models: ["lek", "smol"]).compactMap(\.vote)
        #expect(votes.allSatisfy { $0.winner == "lek" } && votes.count == 6)
    }
}

/// Two rubric variants of the installed SmolLM2-135M-Instruct judging one pair on two items.
@Suite(
    "ConsensusPass on a real model", .serialized,
    .enabled(if: TestPaths.smolLM2 != nil, "SmolLM2-135M-Instruct not installed: run Scripts/setup.sh"))
struct ConsensusPassRealModelTests {
    @Test("every look ends voted or unparsed (never failed) and a rerun asks nothing")
    func smol() async throws {
        let db = try TempDatabase.mini(count: 2)
        var files = [URL]()
        for (m, answer) in [("kind", "I am sorry you are struggling; here is how to ask for help."), ("curt", "No.")] {
            let lines = (1...2).map {
                #"{"id": "Q\#($0)", "benchmark": "mini", "model": "\#(m)", "response": "\#(answer)"}"#
            }
            files.append(try db.file("results/mini_\(m).jsonl", lines.joined(separator: "\n")))
        }
        _ = try LEMImporter(store: db.store).importPaths(files)
        let model = try LoadedModel.load(ModelKey(model: try #require(TestPaths.smolLM2)))
        let backend = LocalJudgeBackend(model: model, sampling: SamplingSettings(maxTokens: 8))
        let strict = try PairwisePrompt.custom(
            "{question}\nA: {answer_a}\nB: {answer_b}\nWhich is kinder? A, B or tie?"
        ).get()
        let judges = [
            ConsensusJudge(name: "smol", backend: backend),
            ConsensusJudge(name: "smol-kind", backend: backend, prompt: strict)
        ]
        let pass = ConsensusPass(store: db.store, judges: judges, concurrency: 1, retries: 0)
        let summary = try await pass.run(benchmark: "mini", models: ["kind", "curt"])
        #expect(summary.voted + summary.unparsed == 8 && summary.failed == 0, "\(summary)")
        let records = try db.store.consensusVotes(benchmark: "mini")
        #expect(records.count == 8)
        for r in records where r.status == .unparsed { #expect(r.detail?.isEmpty == false) }
        let again = try await pass.run(benchmark: "mini", models: ["kind", "curt"])
        #expect(again.skipped == 8 && again.voted + again.unparsed + again.failed == 0)
    }
}
