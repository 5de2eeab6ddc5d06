import Foundation
import LEMCore
import LEMTrainer
import Panels
import TestSupport
import Testing

/// `lem train --curriculum` with `eval:` blocks on a committed tiny model: the real command trains
/// two phases, evaluates the starting model and each phase, prints the scores and appends one
/// `phase_eval` line per evaluation to the combined log, which the Train panel's parser folds into
/// its phase table; run again, it skips the finished phases and logs the same scores.
@Suite struct TrainCurriculumCommandTests {
    static let model = TestPaths.fixture("engine/llama3_tiny/model-f32.gguf")

    /// A data folder, a question file and the curriculum in `dir`; returns the curriculum file.
    func writeCurriculum(in dir: URL) throws -> URL {
        let data = dir.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let lines =
            ["Honesty matters.", "Care is a practice.", "Tell the truth kindly.", "Privacy is owed."]
            .map { #"{"text": "\#($0)"}"# }.joined(separator: "\n") + "\n"
        for split in ["train.jsonl", "valid.jsonl"] {
            try Data(lines.utf8).write(to: data.appendingPathComponent(split))
        }
        let questions = (1...3).map { #"{"id": "Q\#($0)", "question": "Is kindness honest? \#($0)"}"# }
        try Data((questions.joined(separator: "\n") + "\n").utf8).write(to: dir.appendingPathComponent("qs.jsonl"))
        let yaml = """
            model: \(Self.model.path)
            data: data
            adapter_path: out
            num_layers: 1
            batch_size: 1
            max_seq_length: 32
            steps_per_report: 1
            steps_per_eval: 100
            val_batches: 1
            learning_rate: 1.0e-2
            eval: {benchmark: qs.jsonl, limit: 2, max_tokens: 4}
            phases:
              - name: a
                iters: 2
              - name: b
                iters: 3
                eval: {benchmark: qs.jsonl, max_tokens: 4, scorers: [lek-heuristic, authority]}

            """
        let file = dir.appendingPathComponent("cur.yaml")
        try Data(yaml.utf8).write(to: file)
        return file
    }

    /// The `phase_eval` events of a log.
    func evaluations(_ log: URL) throws -> [PhaseEvalReport] {
        try TrainLog.read(log).compactMap { if case .phaseEval(let e) = $0 { e } else { nil } }
    }

    @Test(.enabled(if: LemCommand.binary != nil, "lem is not built: run swift build"))
    func evaluationsAreLoggedForTheTrainPanel() throws {
        try TemporaryFolder.with("lem-curriculum-cmd") { dir in
            let arguments = [
                "train", "--curriculum", try writeCurriculum(in: dir).path, "--db",
                dir.appendingPathComponent("lem.sqlite").path
            ]
            let first = try LemCommand.run(arguments)
            #expect(first.status == 0, "stderr: \(first.err)")
            #expect(first.out.contains("Base eval (run model-f32, qs): lek-heuristic.lek_score "), "\(first.out)")
            #expect(first.out.contains("Phase a eval (run a@"), "\(first.out)")
            #expect(first.out.contains("Phase b eval (run b@"), "\(first.out)")
            let log = dir.appendingPathComponent("out/train-log.jsonl")
            let logged = try evaluations(log)
            #expect(logged.map(\.name) == ["base", "a", "b"])
            #expect(logged.map(\.phase) == [nil, 0, 1] && logged.map(\.step) == [0, 2, 5])
            #expect(logged.map(\.answers) == [2, 2, 3])
            #expect(
                logged.map { $0.scores.map(\.scorer) } == [
                    ["lek-heuristic"], ["lek-heuristic"], ["lek-heuristic", "authority"]
                ])
            for e in logged {
                #expect(e.benchmark == "qs" && e.scores[0].dimension == "lek_score" && e.scores[0].count == e.answers)
                #expect(first.out.contains(e.scoresLine), "\(e.name): \(e.scoresLine) not printed")
            }
            // The panel's parser folds the same file into the phase table.
            let lines = try String(contentsOf: log, encoding: .utf8).split(separator: "\n").map(String.init)
            let (events, issues) = TrainLogParser.parse(lines, source: log.path)
            #expect(issues.isEmpty)
            var model = TrainViewModel()
            model.apply(events)
            #expect(model.phaseRows.map(\.name) == ["base", "a", "b"])
            #expect(model.phaseRows.compactMap(\.evaluation) == logged)
            #expect(model.phaseRows.map(\.iterations) == [nil, 2, 3])

            // Again: the phases are finished, the runs answered; the rebuilt log carries the same scores.
            let again = try LemCommand.run(arguments)
            #expect(again.status == 0, "stderr: \(again.err)")
            #expect(again.err.contains("phase 2/2 'b': finished earlier"), "\(again.err)")
            #expect(try evaluations(log) == logged)
        }
    }
}
