import Foundation
import LEMCore
import TestSupport
import Testing

@testable import LEMTrainer

/// `lem train --curriculum`: a curriculum equals its phases run by hand one after another with
/// `resume_adapter_file`, bit for bit; it resumes with the first unfinished phase; a bad file
/// names the file, the phase and the key.
@Suite("Curriculum", .serialized)
struct CurriculumTests {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("lem-curriculum-\(UUID().uuidString)")
        for (name, words) in [("data0", "kindness and care"), ("data1", "reasoning step by step")] {
            let folder = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let lines = (0..<6).map { #"{"text": "\#(words) sample \#($0) of the phase"}"# }.joined(separator: "\n")
            for split in ["train.jsonl", "valid.jsonl"] {
                try Data((lines + "\n").utf8).write(to: folder.appendingPathComponent(split))
            }
        }
    }

    /// The keys every phase shares (the tiny Gemma fixture, one adapted block).
    var shared: String {
        """
        model: \(TestPaths.fixture("engine/gemma3_tiny").path)
        num_layers: 1
        batch_size: 2
        max_seq_length: 32
        steps_per_report: 1
        steps_per_eval: 2
        save_every: 2
        val_batches: 2
        learning_rate: 1.0e-3
        seed: 3

        """
    }

    /// Each phase's own keys, as YAML lines.
    let phaseKeys: [(name: String, keys: String)] = [
        ("p0", "data: data0\niters: 3\n"),
        ("p1", "data: data1\niters: 4\nlearning_rate: 5.0e-4\noptimizer: adamw\n"),
        ("p2", "data: data0\niters: 2\nlr_schedule: {name: cosine_decay, arguments: [1.0e-3, 2]}\n")
    ]

    /// Writes the curriculum into `root/name` with its adapters in `root/adapters`.
    func writeCurriculum(_ name: String = "curriculum.yaml", adapters: String = "out") throws -> URL {
        var text = shared + "adapter_path: \(adapters)\nphases:\n"
        for (name, keys) in phaseKeys {
            text += "  - name: \(name)\n" + keys.split(separator: "\n").map { "    \($0)\n" }.joined()
        }
        let url = root.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url
    }

    func bytes(_ folder: String, _ file: String = LoRAAdapter.weightsFile) throws -> Data {
        try Data(contentsOf: root.appendingPathComponent(folder).appendingPathComponent(file))
    }

    func losses(_ folder: String) throws -> [Double] {
        try TrainLog.read(root.appendingPathComponent(folder).appendingPathComponent("train-log.jsonl")).compactMap {
            if case .trainReport(let r) = $0 { r.loss } else { nil }
        }
    }

    @Test("a curriculum equals its phases run by hand with resume_adapter_file, bit for bit")
    func equalsPhasesByHand() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let curriculum = try Curriculum(yamlFile: try writeCurriculum())
        #expect(curriculum.phases.map(\.name) == ["p0", "p1", "p2"])
        #expect(curriculum.totalSteps == 9)
        let outcome = try CurriculumRun(curriculum: curriculum).run()
        #expect(outcome == .finished(adapter: root.appendingPathComponent("out/adapters.safetensors")))

        // By hand: one `lem train -c` config per phase, each resuming from the previous folder's adapter.
        var previous: String?
        for (name, keys) in phaseKeys {
            // The shared keys the phase does not set, then the phase's own (one YAML mapping).
            let own = Set(keys.split(separator: "\n").map { String($0.prefix { $0 != ":" }) })
            let kept = shared.split(separator: "\n").filter { !own.contains(String($0.prefix { $0 != ":" })) }
            var text = kept.joined(separator: "\n") + "\n" + keys + "train: true\nadapter_path: byhand/\(name)\n"
            if let previous { text += "resume_adapter_file: byhand/\(previous)/adapters.safetensors\n" }
            let file = root.appendingPathComponent("byhand-\(name).yaml")
            try Data(text.utf8).write(to: file)
            let prepared = try PreparedTrainingRun.prepare(config: try TrainingConfig(yamlFile: file))
            _ = try prepared.train()
            previous = name
        }
        for (name, _) in phaseKeys {
            #expect(try bytes("out/\(name)") == bytes("byhand/\(name)"), "phase \(name)'s adapter")
            #expect(try losses("out/\(name)") == losses("byhand/\(name)"), "phase \(name)'s losses")
            // Each phase is a fresh run: iteration 1 of its own iters, its own log.
            let log = try TrainLog.read(root.appendingPathComponent("out/\(name)/train-log.jsonl"))
            #expect(log.first?.step == 0)
            // A loadable adapter folder.
            _ = try LoRAAdapter(folder: root.appendingPathComponent("out/\(name)"))
        }
        #expect(try bytes("out") == bytes("byhand/p2"))
        #expect(try bytes("out", LoRAAdapter.configFile) == bytes("out/p2", LoRAAdapter.configFile))
        // The phases learn: the adapters differ from phase to phase.
        #expect(try bytes("out/p0") != bytes("out/p1"))

        // The combined log: a phase mark where each begins, the steps continuing across phases.
        let combined = try TrainLog.read(root.appendingPathComponent("out/train-log.jsonl"))
        let marks = combined.compactMap { if case .phase(let s, let i, let n) = $0 { "\(i):\(n)@\(s)" } else { nil } }
        #expect(marks == ["0:p0@0", "1:p1@3", "2:p2@7"])
        let steps = combined.compactMap { if case .trainReport(let r) = $0 { r.step } else { nil } }
        #expect(steps == Array(1...9))
        #expect(combined.contains(.started(step: 3, totalSteps: 9)))
    }

    /// A cancel flag the test raises from the event callback.
    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var raised = false
        var isRaised: Bool { lock.withLock { raised } }
        func raise() { lock.withLock { raised = true } }
    }

    @Test("a stopped curriculum continues with the first unfinished phase and ends as an uninterrupted one")
    func resumesAtThePhaseItStoppedIn() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let whole = try Curriculum(yamlFile: try writeCurriculum("whole.yaml", adapters: "whole"))
        _ = try CurriculumRun(curriculum: whole).run()

        let file = try writeCurriculum()
        let stop = Flag()
        let first = try CurriculumRun(curriculum: try Curriculum(yamlFile: file)).run(
            isCancelled: { stop.isRaised },
            onEvent: { event in
                // Stop in p1 after its second iteration.
                if case .training(let p, .trainReport(let r)) = event, p.name == "p1", r.step == 2 { stop.raise() }
            })
        #expect(first == .stopped(phase: 1))
        let run = CurriculumRun(curriculum: try Curriculum(yamlFile: file))
        #expect(try run.finishedPhases() == 1)
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("out/adapters.safetensors").path))
        let p0Log = try bytes("out/p0", "train-log.jsonl")

        var seen: [String] = []
        let second = try run.run(onEvent: { event in
            switch event {
            case .skipped(let p): seen.append("skip \(p.name)")
            case .starting(let p): seen.append("start \(p.name)")
            default: break
            }
        })
        #expect(second == .finished(adapter: root.appendingPathComponent("out/adapters.safetensors")))
        #expect(seen == ["skip p0", "start p1", "start p2"])
        #expect(try bytes("out/p0", "train-log.jsonl") == p0Log)  // not trained again
        for name in ["p0", "p1", "p2"] { #expect(try bytes("out/\(name)") == bytes("whole/\(name)"), "\(name)") }
        #expect(try bytes("out") == bytes("whole"))
        let combined = try TrainLog.read(root.appendingPathComponent("out/train-log.jsonl"))
        #expect(combined.compactMap { if case .trainReport(let r) = $0 { r.step } else { nil } } == Array(1...9))
        #expect(try CurriculumRun(curriculum: try Curriculum(yamlFile: file)).finishedPhases() == 3)
    }

    @Test("a changed phase or a replaced adapter is trained again, and so is every phase after it")
    func changedPhasesAreNotSkipped() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let file = try writeCurriculum()
        _ = try CurriculumRun(curriculum: try Curriculum(yamlFile: file)).run()
        // p1 now trains at another rate: p0 stays finished, p1 and p2 are not.
        let text = try String(contentsOf: file, encoding: .utf8).replacingOccurrences(
            of: "learning_rate: 5.0e-4", with: "learning_rate: 2.0e-4")
        try Data(text.utf8).write(to: file)
        #expect(try CurriculumRun(curriculum: try Curriculum(yamlFile: file)).finishedPhases() == 1)
        // Other batching choices change every phase's fingerprint.
        var options = LoRATraining.Options()
        options.maxGradNorm = 1
        #expect(try CurriculumRun(curriculum: try Curriculum(yamlFile: file), options: options).finishedPhases() == 0)
        // A replaced p0 adapter: nothing counts as finished.
        try Data("not an adapter".utf8).write(to: root.appendingPathComponent("out/p0/adapters.safetensors"))
        #expect(try CurriculumRun(curriculum: try Curriculum(yamlFile: file)).finishedPhases() == 0)
        // A state file that is not one is an error naming it.
        try Data("[1, 2]".utf8).write(to: root.appendingPathComponent("out/\(CurriculumRun.stateFile)"))
        #expect(throws: CurriculumError.self) {
            try CurriculumRun(curriculum: try Curriculum(yamlFile: file)).finishedPhases()
        }
    }

    /// The message reading `phases` (YAML lines under `phases:`) gives.
    func problem(_ phases: String, top: String = "") -> String {
        let text = shared + top + "phases:\n" + phases
        do {
            _ = try Curriculum(yaml: text, file: "cur.yaml", folder: root)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test("an eval block is read with its defaults, a file relative to the curriculum")
    func evalBlocks() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let text =
            shared + "phases:\n  - name: a\n    data: data0\n    iters: 2\n"
            + "    eval: {benchmark: probes/p.jsonl, limit: 3, scorers: [lek-heuristic, authority], max_tokens: 16}\n"
            + "  - name: b\n    data: data1\n    iters: 2\n    eval:\n      benchmark: seeds\n"
        let c = try Curriculum(yaml: text, file: "cur.yaml", folder: root)
        let a = try #require(c.phases[0].evaluation)
        #expect(a.benchmark == root.appendingPathComponent("probes/p.jsonl").standardizedFileURL.path)
        #expect(a.limit == 3 && a.scorers == ["lek-heuristic", "authority"] && a.maxTokens == 16 && a.kernel == "none")
        let b = try #require(c.phases[1].evaluation)
        #expect(b.benchmark == "seeds" && b.scorers == ["lek-heuristic"] && b.limit == nil)
        // The phases chain: b starts from a's adapter.
        #expect(
            c.phases[1].config.resumeAdapterFile
                == c.phases[0].folder.appendingPathComponent("adapters.safetensors").path)
        #expect(c.phases[0].config.resumeAdapterFile == nil)
        #expect(c.baseEvaluation == nil)

        // A top-level eval block evaluates the starting model and is the block of every phase without one.
        let top =
            shared + "eval: {benchmark: seeds, limit: 4}\nphases:\n  - name: a\n    data: data0\n    iters: 2\n"
            + "  - name: b\n    data: data1\n    iters: 2\n    eval: {benchmark: gsm8k, scorers: [gsm8k]}\n"
        let withBase = try Curriculum(yaml: top, file: "cur.yaml", folder: root)
        #expect(withBase.baseEvaluation?.benchmark == "seeds" && withBase.baseEvaluation?.limit == 4)
        #expect(withBase.phases[0].evaluation == withBase.baseEvaluation)
        let own = withBase.phases[1].evaluation
        #expect(own?.benchmark == "gsm8k" && own?.scorers == ["gsm8k"] && own?.limit == nil)
        let bad = problem("  - name: a\n    data: data0\n    iters: 2\n", top: "eval: {benchmark: seeds, limit: 0}\n")
        #expect(bad.hasPrefix("cur.yaml: config key 'eval.limit': must be at least 1, got 0"), "\(bad)")
    }

    @Test("the shipped curriculum recipe reads: three phases, 120 iterations, an eval after each")
    func recipeReads() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let c = try Curriculum(
            yamlFile: TestPaths.repoRoot.appendingPathComponent("recipes/gemma3-270m-lek-curriculum.yaml"))
        #expect(c.phases.map(\.name) == ["p0-ethics", "p1-composure", "p2-reasoning"])
        #expect(c.totalSteps == 120 && c.phases.allSatisfy { $0.evaluation?.benchmark == "seeds" })
        #expect(
            c.adapterFolder.path
                == TestPaths.repoRoot.appendingPathComponent("adapters/gemma3-270m-lek-curriculum").path)
        #expect(c.phases[2].config.learningRate == 5e-5 && c.phases[0].config.learningRate == 1e-4)
    }

    @Test("a bad curriculum names the file, the phase and the key, and says what was expected")
    func badFilesAreExplained() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let ok = "  - name: a\n    data: data0\n    iters: 2\n"
        #expect(problem(ok) == "no error")
        let badIters = problem(ok + "  - name: b\n    data: data1\n    iters: many\n")
        #expect(
            badIters.hasPrefix("cur.yaml: phase 2 'b': config key 'iters': expected an integer at cur.yaml:"),
            "\(badIters)")
        let noName = problem(ok + "  - data: data1\n    iters: 2\n")
        #expect(noName.hasPrefix("cur.yaml: phase 2: config key 'name': missing at cur.yaml:"), "\(noName)")
        let twice = problem(ok + "  - name: a\n    data: data1\n    iters: 2\n")
        #expect(twice.contains("phase 2 'a'") && twice.contains("a phase named 'a' comes earlier"), "\(twice)")
        let folder = problem("  - name: ../up\n    data: data0\n    iters: 2\n")
        #expect(folder.contains("phase 1 '../up'") && folder.contains("is not a folder name"), "\(folder)")
        let reserved = problem("  - name: a\n    data: data0\n    iters: 2\n    adapter_path: x\n")
        #expect(
            reserved.contains("phase 1 'a': config key 'adapter_path'") && reserved.contains("top level"), "\(reserved)"
        )
        let unknown = problem("  - name: a\n    data: data0\n    itres: 2\n")
        #expect(unknown.contains("phase 1 'a'") && unknown.contains("unknown config key 'itres'"), "\(unknown)")
        let range = problem("  - name: a\n    data: data0\n    iters: 0\n")
        #expect(range.contains("phase 1 'a': config key 'iters': must be at least 1"), "\(range)")
        let notMap = problem("  - just a string\n")
        #expect(notMap.contains("phase 1") && notMap.contains("expected a mapping"), "\(notMap)")
        #expect(problem("").contains("config key 'phases': expected a list"), "\(problem(""))")
        #expect(problem("  []\n").hasPrefix("cur.yaml: 'phases:' is empty"), "\(problem("  []\n"))")
        do {
            _ = try Curriculum(yaml: shared, file: "cur.yaml", folder: root)
            Issue.record("a file without phases was accepted")
        } catch {
            #expect("\(error)".hasPrefix("cur.yaml: no 'phases:' list"), "\(error)")
        }
        let noData = problem("  - name: a\n    iters: 2\n")
        #expect(noData.contains("phase 1 'a': config key 'data': no data folder"), "\(noData)")
        let badEval = problem(ok + "    eval: {benchmark: seeds, kernel: sideways}\n")
        #expect(
            badEval.contains("phase 1 'a': config key 'eval.kernel': expected none, system or sandwich"), "\(badEval)")
        let noBenchmark = problem(ok + "    eval: {limit: 3}\n")
        #expect(noBenchmark.contains("config key 'eval.benchmark': missing"), "\(noBenchmark)")
        let testKey = problem(ok, top: "test: true\n")
        #expect(testKey.contains("config key 'test'") && testKey.contains("cur.yaml"), "\(testKey)")
    }
}
