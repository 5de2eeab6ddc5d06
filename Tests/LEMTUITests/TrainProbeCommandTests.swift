import Foundation
import LEMCore
import LEMScoring
import LEMTrainer
import Panels
import TestSupport
import Testing

/// `lem train --probe-every` on a committed tiny model: a real run probes the base and the
/// saved checkpoints; each logged score is the LEK heuristic's real score of the logged answer;
/// the log reads back the same through the trainer's reader and the Train panel's parser.
@Suite struct TrainProbeCommandTests {
    static let lem = LemCommand.binary

    /// Runs `lem` to the end; returns (exit status, stdout, stderr).
    func run(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try LemCommand.run(arguments)
    }

    /// A data folder of short text examples.
    func dataFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lem-probe-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let lines =
            [
                "I think honesty matters.", "We should protect privacy.", "I feel that care is a practice.",
                "Tell the truth kindly."
            ]
            .map { "{\"text\": \"\($0)\"}" }.joined(separator: "\n") + "\n"
        try lines.write(to: folder.appendingPathComponent("train.jsonl"), atomically: true, encoding: .utf8)
        try lines.write(to: folder.appendingPathComponent("valid.jsonl"), atomically: true, encoding: .utf8)
        return folder
    }

    @Test(.enabled(if: lem != nil, "lem is not built: run swift build"))
    func aRealRunLogsProbesWithTheScorersScores() throws {
        let data = try dataFolder()
        let adapters = data.appendingPathComponent("adapters")
        let result = try run([
            "train", "--model", TestPaths.fixture("engine/gemma3_tiny").path, "--data", data.path, "--train", "--iters",
            "4",
            "--batch-size", "1", "--num-layers", "1", "--save-every", "2", "--steps-per-report", "1",
            "--steps-per-eval", "100",
            "--val-batches", "1", "--learning-rate", "1e-2", "--adapter-path", adapters.path,
            "--probe-every", "1", "--probe-seeds", "2", "--probe-max-tokens", "8"
        ])
        #expect(result.status == 0, "stderr: \(result.err)")
        #expect(result.out.contains("Iter 0: Probe score "), "stdout: \(result.out)")
        let log = adapters.appendingPathComponent("train-log.jsonl")
        let events = try TrainLog.read(log)
        let probes = events.compactMap { if case .probe(let p) = $0 { p } else { nil } }
        // The base at 0, then each save (2, 4); the last save is the final adapter, probed once.
        #expect(probes.map(\.step) == [0, 2, 4])
        for probe in probes {
            #expect(probe.error == nil && probe.scorer == "lek-heuristic")
            #expect(probe.answers.map(\.id) == ["P01", "P11"], "seed ids: \(probe.answers.map(\.id))")
            for answer in probe.answers {
                #expect((0...8).contains(answer.tokens ?? -1))
                let lek = LEKHeuristic().score(ScoringInput(prompt: answer.prompt, response: answer.answer))
                #expect(
                    answer.score == lek.first { $0.dimension == "lek_score" }?.value,
                    "step \(probe.step) \(answer.id): \(answer.answer)")
            }
        }
        // Each probe line comes right after its save line in the file.
        let kinds = events.map { e -> String in
            switch e {
            case .saved(let s, _): return "s\(s)"
            case .probe(let p): return "p\(p.step)"
            default: return "-"
            }
        }.filter { $0 != "-" }
        #expect(kinds == ["p0", "s2", "p2", "s4", "p4"])
        // The Train panel folds the same probes from the same file.
        let lines = try String(contentsOf: log, encoding: .utf8).split(separator: "\n").map(String.init)
        let (folded, issues) = TrainLogParser.parse(lines, source: log.path)
        #expect(issues.isEmpty)
        var model = TrainViewModel()
        model.apply(folded)
        #expect(model.probes == probes)
    }

    @Test(.enabled(if: lem != nil, "lem is not built: run swift build"))
    func aBadPromptsFileStopsBeforeTraining() throws {
        let data = try dataFolder()
        let prompts = data.appendingPathComponent("probes.jsonl")
        try "{\"prompt\": \"ok\"}\n{\"text\": 1}\n".write(to: prompts, atomically: true, encoding: .utf8)
        let result = try run([
            "train", "--model", TestPaths.fixture("engine/gemma3_tiny").path, "--data", data.path, "--train", "--iters",
            "2",
            "--batch-size", "1", "--adapter-path", data.appendingPathComponent("adapters").path,
            "--probe-every", "1", "--probe-prompts", prompts.path
        ])
        #expect(result.status != 0)
        #expect(result.err.contains("probes.jsonl:2"), "stderr: \(result.err)")
        #expect(!FileManager.default.fileExists(atPath: data.appendingPathComponent("adapters/train-log.jsonl").path))
    }

    /// Ctrl-C during `lem train`: the run saves its adapter after the current iteration, logs
    /// the stop and exits with 130; the saved adapter loads.
    @Test(.enabled(if: lem != nil, "lem is not built: run swift build"))
    func interruptSavesAndExits130() throws {
        let data = try dataFolder()
        defer { try? FileManager.default.removeItem(at: data) }
        let adapters = data.appendingPathComponent("adapters")
        let out = Pipe()
        let process = try LemCommand.start(
            [
                "train", "--model", TestPaths.fixture("engine/gemma3_tiny").path, "--data", data.path, "--train",
                "--iters",
                "100000", "--batch-size", "1", "--num-layers", "1", "--save-every", "100000", "--steps-per-report", "1",
                "--steps-per-eval", "100000", "--val-batches", "1", "--adapter-path", adapters.path
            ], reading: out)
        // Wait for the first report, then interrupt.
        var text = LemCommand.read(out, until: "Train loss", timeout: 120)
        #expect(text.contains("Train loss"), "no report before the deadline: \(text)")
        kill(process.processIdentifier, SIGINT)
        text += String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(
            process.terminationReason == .exit && process.terminationStatus == 130,
            "status \(process.terminationStatus)")
        #expect(text.contains("stopped: cancelled"), "stdout: \(text)")
        let events = try TrainLog.read(adapters.appendingPathComponent("train-log.jsonl"))
        guard case .failed(let step, "cancelled") = events.last else {
            Issue.record("last event: \(String(describing: events.last))")
            return
        }
        #expect(step >= 1 && step < 100000)
        _ = try LoRAAdapter(folder: adapters)
    }
}
