import Foundation
import GRDB
import LEMCore
import LEMEngine
import LEMStore
import StoreTestSupport
import TestSupport
import Testing

@testable import LEMEval
@testable import LEMScoring

/// A generator that answers from a script and can be told to fail at a given call.
final class ScriptedGenerator: ResponseGenerator, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var calls: [[ChatMessage]] = []
    let failAt: Int?

    init(failAt: Int? = nil) { self.failAt = failAt }

    func generate(messages: [ChatMessage], sampling: SamplingSettings) async throws -> GeneratedResponse {
        let n = lock.withLock {
            calls.append(messages)
            return calls.count
        }
        if let failAt, n == failAt { throw LocatedError("generator", "simulated crash") }
        return GeneratedResponse(text: "answer to \(messages.last!.content.suffix(8))", tokens: n, seconds: 0.5)
    }
}

@Suite("BenchRunner")
struct BenchRunnerTests {
    func setUp() throws -> TempDatabase { try TempDatabase.mini() }

    @Test("a crashed run keeps its committed responses and resumes with only the missing items")
    func resume() async throws {
        let db = try setUp()
        let spec = RunSpec(model: "tiny", benchmark: "mini", sampling: SamplingSettings(temperature: 0.7, seed: 3))
        let crashing = ScriptedGenerator(failAt: 3)
        await #expect(throws: LocatedError.self) {
            try await BenchRunner(store: db.store, generator: crashing).run(spec)
        }
        // A fresh connection (as after a restart) sees the two committed responses and a failed run.
        let reopened = try ResultStore(url: db.store.url)
        #expect(try scalar(reopened, "SELECT COUNT(*) FROM response", as: Int.self) == 2)
        #expect(try scalar(reopened, "SELECT status FROM run", as: String.self) == "failed")

        let events = EventLog()
        let finishing = ScriptedGenerator()
        let runID = try await BenchRunner(store: reopened, generator: finishing).run(spec) { events.append($0) }
        #expect(finishing.calls.count == 3)
        #expect(
            finishing.calls.map { $0[0].content } == ["question number 3", "question number 4", "question number 5"])
        let log = events.events
        #expect(log.first == .started(runID: runID, total: 5, done: 2, resumed: true))
        #expect(log.last == .finished(runID: runID, status: "complete"))
        #expect(log.filter { if case .response = $0 { return true } else { return false } }.count == 3)
        #expect(try scalar(reopened, "SELECT COUNT(*) FROM run", as: Int.self) == 1)
        #expect(try scalar(reopened, "SELECT COUNT(*) FROM response", as: Int.self) == 5)
        // A different spec starts a new run rather than resuming.
        let other = RunSpec(model: "tiny", benchmark: "mini", kernelMode: .sandwich)
        let kernel = EthicsKernel(
            text: "KERNEL", axioms: [.init(id: 1, key: "a", name: "A", statement: "s", guidance: "g")])
        let g = ScriptedGenerator()
        try await BenchRunner(store: reopened, generator: g, kernel: kernel).run(other)
        #expect(g.calls.count == 5)
        #expect(g.calls[0] == [ChatMessage.user("Axioms:\n1. A: s g\n\nquestion number 1\n\nKERNEL")])
        #expect(try scalar(reopened, "SELECT COUNT(*) FROM run", as: Int.self) == 2)
    }

    @Test("a reader sees committed responses while a run is writing")
    func concurrentReader() async throws {
        let db = try setUp()
        let reader = try ResultStore(url: db.store.url)
        let counts = EventLog()
        let spec = RunSpec(model: "tiny", benchmark: "mini")
        try await BenchRunner(store: db.store, generator: ScriptedGenerator()).run(spec) { event in
            if case .response = event {
                let n = (try? scalar(reader, "SELECT COUNT(*) FROM response", as: Int.self)) ?? nil
                counts.append(.started(runID: 0, total: n ?? -1, done: 0, resumed: false))
            }
        }
        #expect(
            counts.events.map { if case .started(_, let t, _, _) = $0 { return t } else { return -1 } } == [
                1, 2, 3, 4, 5
            ])
        let journal = try scalar(db.store, "PRAGMA journal_mode", as: String.self)
        #expect(journal == "wal")
    }
}

/// A generator whose answers wait until `open()`: holds a runner in the middle of its run.
final class GatedGenerator: ResponseGenerator, @unchecked Sendable {
    private let lock = NSLock()
    private var isOpen = false
    private var count = 0

    /// Calls so far.
    var calls: Int { lock.withLock { count } }

    func generate(messages: [ChatMessage], sampling: SamplingSettings) async throws -> GeneratedResponse {
        lock.withLock { count += 1 }
        while !lock.withLock({ isOpen }) { try await Task.sleep(nanoseconds: 2_000_000) }
        return GeneratedResponse(text: "gated answer", tokens: 1)
    }

    /// Lets every waiting and later call answer.
    func open() { lock.withLock { isOpen = true } }
}

@Suite("BenchRunner, two runners on one run")
struct BenchRunnerClaimTests {
    @Test("a second runner of a run refuses while the first answers; the run is answered once")
    func secondRunnerRefuses() async throws {
        let (db, spec) = try miniRun()
        let gated = GatedGenerator()
        let first = Task { try await BenchRunner(store: db.store, generator: gated).run(spec) }
        defer { gated.open() }
        let clock = ContinuousClock()
        // Generous: on two cores, suites running beside this one can hold the cooperative pool for
        // a minute before the first runner's task is scheduled.
        let deadline = clock.now + .seconds(300)
        while gated.calls == 0, clock.now < deadline { try await Task.sleep(nanoseconds: 2_000_000) }
        #expect(gated.calls == 1)

        // Another runner with its own connection to the same file, as a second `lem bench run` has.
        let other = try ResultStore(url: db.store.url)
        let second = ScriptedGenerator()
        let refused = await #expect(throws: LocatedError.self) {
            try await BenchRunner(store: other, generator: second).run(spec)
        }
        let message = refused?.description ?? ""
        #expect(message.hasPrefix(db.store.url.path + ": run 1 (tiny on mini) is being answered by another process"))
        #expect(second.calls.isEmpty)
        // The check a caller makes before loading a model says the same.
        #expect(throws: LocatedError.self) { try BenchRunner.checkUnclaimed(spec, store: other) }

        gated.open()
        let runID = try await first.value
        #expect(gated.calls == 5)
        #expect(try scalar(other, "SELECT COUNT(*) FROM response", as: Int.self) == 5)
        #expect(try scalar(other, "SELECT COUNT(*) FROM run", as: Int.self) == 1)
        #expect(try scalar(other, "SELECT status FROM run", as: String.self) == "complete")

        // The claim ends with the first runner: the second now resumes the run, finding it done.
        try BenchRunner.checkUnclaimed(spec, store: other)
        let again = try await BenchRunner(store: other, generator: second).run(spec)
        #expect(again == runID && second.calls.isEmpty)
    }

    @Test("claims are per run and end when released")
    func claims() throws {
        let db = try TempDatabase.mini()
        let other = try ResultStore(url: db.store.url)
        let one = try #require(try db.store.claimRun(1))
        #expect(try other.claimRun(1) == nil)
        let two = try #require(try other.claimRun(2))
        one.release()
        one.release()
        let again = try #require(try other.claimRun(1))
        again.release()
        two.release()
    }
}

/// Collects events from a @Sendable callback.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [BenchRunEvent] = []
    func append(_ e: BenchRunEvent) {
        lock.lock()
        stored.append(e)
        lock.unlock()
    }
    var events: [BenchRunEvent] {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}

@Suite("BenchRunner limits and benchmark files")
struct BenchRunnerLimitTests {
    @Test("--limit answers the first N items; a larger limit resumes the same run; a completed run is not redone")
    func limit() async throws {
        let (db, spec) = try miniRun()
        let g = ScriptedGenerator()
        let first = try await BenchRunner(store: db.store, generator: g).run(spec, limit: 2)
        #expect(g.calls.map { $0[0].content } == ["question number 1", "question number 2"])
        let events = EventLog()
        let again = try await BenchRunner(store: db.store, generator: g).run(spec, limit: 2) { events.append($0) }
        #expect(again == first && g.calls.count == 2)
        #expect(events.events.first == .started(runID: first, total: 2, done: 2, resumed: true))
        _ = try await BenchRunner(store: db.store, generator: g).run(spec, limit: 3)
        #expect(g.calls.count == 3 && g.calls[2][0].content == "question number 3")
        #expect(try scalar(db.store, "SELECT COUNT(*) FROM run", as: Int.self) == 1)
        #expect(try scalar(db.store, "SELECT COUNT(*) FROM response", as: Int.self) == 3)
        // The GSM8K instruction is folded into the user turn by the runner.
        let gsm = try db.file(
            "gsm8k.jsonl", #"{"id": "G1", "benchmark": "gsm8k", "question": "2+2?", "correct_answer": "4"}"#)
        #expect(try BenchmarkSource.resolve(gsm.path, store: db.store, seedsDirectory: nil) == "gsm8k")
        let g2 = ScriptedGenerator()
        try await BenchRunner(store: db.store, generator: g2).run(RunSpec(model: "tiny", benchmark: "gsm8k"))
        #expect(g2.calls == [[ChatMessage.user(BenchPrompt.userText(prompt: "2+2?", benchmark: "gsm8k"))]])
    }

    @Test("benchmark arguments: stored names, seeds imported on demand, clear errors")
    func resolve() throws {
        let db = try TempDatabase.mini()
        #expect(try BenchmarkSource.resolve("mini", store: db.store, seedsDirectory: nil) == "mini")
        let seeds = TestPaths.repoRoot.appendingPathComponent("seeds")
        #expect(try BenchmarkSource.resolve("seeds", store: db.store, seedsDirectory: seeds) == "seeds")
        #expect(try db.store.itemCount(benchmark: "seeds") == 100)
        let missing = #expect(throws: LocatedError.self) {
            try BenchmarkSource.resolve("toxigen", store: db.store, seedsDirectory: nil)
        }
        #expect(missing?.description.contains("lem bench import") == true)
        let noFile = #expect(throws: LocatedError.self) {
            try BenchmarkSource.resolve("/nope/x.jsonl", store: db.store, seedsDirectory: nil)
        }
        #expect(noFile?.description.contains("no such benchmark file") == true)
    }
}

/// The mini benchmark's database and the spec of a run of model "tiny" on it.
func miniRun() throws -> (TempDatabase, RunSpec) {
    (try TempDatabase.mini(), RunSpec(model: "tiny", benchmark: "mini"))
}
