import Foundation
import LEMCore
import LEMEngine
import LEMScoring
import LEMStore
import LEMTrainer
import Panels
import Testing

@testable import LEMApp

/// A curriculum's evaluations reach the Train panel: a two-phase curriculum on the tiny model
/// is trained, its `eval:` blocks (the starting model's and each phase's) answer a question file
/// into the store, and each writes a `phase_eval` line to the combined log that a follower shows
/// in the phase table as it is written, and again when the finished folder is opened.
@Suite("CurriculumEvaluation", .serialized)
struct CurriculumEvaluationTests {
    let world: TinyWorld

    init() throws { world = try TinyWorld() }

    /// A question file and a curriculum over the world's data: a top-level `eval:` (the starting
    /// model, and phase `a`'s), and phase `b`'s own with a second scorer.
    func writeCurriculum() throws -> URL {
        let questions = (1...3).map { #"{"id": "q\#($0)", "prompt": "Is honesty kind? Case \#($0)."}"# }
        try Data((questions.joined(separator: "\n") + "\n").utf8).write(
            to: world.root.appendingPathComponent("questions.jsonl"))
        let yaml = """
            model: \(world.model.path)
            data: data
            adapter_path: runs/cur
            num_layers: 1
            batch_size: 2
            max_seq_length: 32
            steps_per_report: 1
            steps_per_eval: 2
            learning_rate: 1.0e-3
            eval: {benchmark: questions.jsonl, limit: 2, max_tokens: 4}
            phases:
              - name: a
                iters: 3
              - name: b
                iters: 2
                eval: {benchmark: questions.jsonl, max_tokens: 4, scorers: [lek-heuristic, authority]}

            """
        let url = world.root.appendingPathComponent("cur.yaml")
        try Data(yaml.utf8).write(to: url)
        return url
    }

    /// The mean LEK score of the stored answers of `model` (the scorer called here, not the pass).
    func lekMean(_ store: ResultStore, model: String) throws -> Double {
        let answers = try store.responses(models: [model])
        let scores = answers.map { a in
            LEKHeuristic().score(ScoringInput(prompt: a.prompt, response: a.response)).first {
                $0.dimension == "lek_score"
            }!.value!
        }
        return scores.reduce(0, +) / Double(scores.count)
    }

    @Test("each evaluation is stored, logged as a phase_eval line and shown live and on reopening")
    func scoresReachTheTrainPanel() async throws {
        let curriculum = try Curriculum(yamlFile: try writeCurriculum())
        #expect(
            try CurriculumRun(curriculum: curriculum).run()
                == .finished(
                    adapter: curriculum.adapterFolder
                        .appendingPathComponent(LoRAAdapter.weightsFile)))
        let log = curriculum.adapterFolder.appendingPathComponent("train-log.jsonl")

        // The panel follows the combined log while the evaluations run.
        let inbox = FakeInbox()
        let follower = TrainLogFollower(url: log, inbox: inbox, pollInterval: 0.02)
        follower.start()
        defer { follower.stop() }
        try await inbox.settle("the phases") { $0.train.model.trainLoss.count == 5 && $0.train.model.phases.count == 2 }
        #expect(inbox.workbench.train.model.phaseRows.map(\.name) == ["a", "b"])

        let evaluation = CurriculumEvaluation(curriculum: curriculum)
        let targets = evaluation.targets
        #expect(targets.map(\.name) == ["base", "a", "b"])
        #expect(targets.map(\.phase) == [nil, 0, 1])
        #expect(targets.map(\.step) == [0, 3, 5])
        #expect(targets[0].model == ModelKey(model: world.model))
        #expect(targets[2].model == ModelKey(model: world.model, adapter: curriculum.phases[1].folder))
        let store = try ResultStore(url: world.root.appendingPathComponent("lem.sqlite"))
        var reports: [PhaseEvalReport] = []
        for target in targets {
            let report = try await evaluation.evaluate(
                target, store: store, paths: world.paths, load: { try world.context.load($0) })
            reports.append(report)
            // Live: the row gets its scores as soon as the line is written.
            try await inbox.settle("\(target.name)'s scores") {
                $0.train.model.phaseRows.contains { $0.name == target.name && $0.evaluation == report }
            }
        }
        // The starting model is stored as `lem bench run` names it; each phase by its adapter's hash.
        let adapterA = try Data(contentsOf: curriculum.phases[0].folder.appendingPathComponent(LoRAAdapter.weightsFile))
        #expect(reports.map(\.run) == ["tiny-chat", "a@\(SHA256.hex(adapterA).prefix(12))", reports[2].run])
        #expect(reports[2].run.hasPrefix("b@") && reports[2].run.count == 14)
        #expect(reports.map(\.answers) == [2, 2, 3])
        #expect(
            reports.map { $0.scores.map(\.scorer) } == [
                ["lek-heuristic"], ["lek-heuristic"], ["lek-heuristic", "authority"]
            ])
        for report in reports {
            let lek = try #require(report.scores.first)
            #expect(lek.dimension == "lek_score" && lek.count == report.answers)
            #expect(abs(try #require(lek.mean) - lekMean(store, model: report.run)) < 1e-12, "\(report.name)")
        }
        #expect(reports[2].scores[1].dimension != nil)

        // The log holds one line per evaluation after the training, read back as written.
        let events = try TrainLog.read(log)
        #expect(events.suffix(3) == reports.map { .phaseEval($0) })

        // Again: the runs are resumed (nothing answered twice) and the rows keep one evaluation each.
        let runsBefore = try store.responses().count
        let again = try await evaluation.evaluate(
            targets[1], store: store, paths: world.paths, load: { try world.context.load($0) })
        #expect(again == reports[1])
        #expect(try store.responses().count == runsBefore)
        try await inbox.settle("re-evaluated") { $0.train.model.phaseEvals.count == 3 }

        // A panel opening the finished folder shows the same table.
        let reopened = FakeInbox()
        let second = TrainLogFollower(url: log, inbox: reopened, pollInterval: 0.02)
        second.start()
        defer { second.stop() }
        try await reopened.settle("the finished folder") { $0.train.model.phaseEvals.count == 3 }
        let rows = reopened.workbench.train.model.phaseRows
        #expect(rows.map(\.name) == ["base", "a", "b"])
        #expect(rows.map(\.iterations) == [nil, 3, 2])
        #expect(rows.map { $0.evaluation?.run } == reports.map(\.run))
        #expect(rows[1].trainLoss != nil && rows[2].validationLoss != nil)
        var panel = ScreenBuffer(width: 100, height: 32)
        TrainPanel(model: reopened.workbench.train.model).render(into: &panel, area: panel.bounds, focused: true)
        let text = panel.lines.joined(separator: "\n")
        #expect(text.contains("lek_score") && text.contains("1 a") && text.contains("2 b"), "\(text)")
        #expect(text.contains("│ base") && text.contains("eval on \(reports[0].benchmark)"), "\(text)")

        // A damaged line is named by file and line, in the panel and by the trainer's reader.
        let lineCount = try String(contentsOf: log, encoding: .utf8).split(separator: "\n").count
        let handle = try FileHandle(forWritingTo: log)
        try handle.seekToEnd()
        try handle.write(
            contentsOf: Data((#"{"event": "phase_eval", "step": 5, "name": "b", "scores": 3}"# + "\n").utf8))
        try handle.close()
        try await reopened.settle("the bad line") { !$0.train.model.issues.isEmpty }
        #expect(
            reopened.workbench.train.model.issues
                == ["\(log.path):\(lineCount + 1): phase_eval record: needs a 'scores' list"])
        #expect(
            throws: DatasetError.badLine(
                file: log.path, line: lineCount + 1, reason: "phase_eval record: needs a 'scores' list")
        ) {
            try TrainLog.read(log)
        }
    }

    @Test("GSM8K means read each item's reference answer")
    func gsm8kUsesTheReference() async throws {
        let items = [("G1", "4"), ("G2", "7")].map {
            #"{"id": "\#($0.0)", "benchmark": "gsm8k", "question": "Sum?", "correct_answer": "\#($0.1)"}"#
        }
        try Data((items.joined(separator: "\n") + "\n").utf8).write(to: world.root.appendingPathComponent("g.jsonl"))
        let yaml = """
            model: \(world.model.path)
            data: data
            adapter_path: runs/g
            eval: {benchmark: g.jsonl, scorers: [gsm8k]}
            phases:
              - name: a
                iters: 1

            """
        let file = world.root.appendingPathComponent("g.yaml")
        try Data(yaml.utf8).write(to: file)
        let evaluation = CurriculumEvaluation(curriculum: try Curriculum(yamlFile: file))
        let base = try #require(evaluation.targets.first)
        #expect(base.phase == nil)
        let store = try ResultStore(url: world.root.appendingPathComponent("g.sqlite"))
        // Known answers instead of the tiny model's: G1 right, G2 wrong.
        let report = try await evaluation.evaluate(
            base, store: store, paths: world.paths, load: { try world.context.load($0) },
            answer: { plan, _ in
                let (runID, _) = try store.openRun(plan.spec)
                for item in try store.pendingItems(runID: runID, benchmark: plan.benchmark) {
                    try store.recordResponse(
                        runID: runID, itemID: item.id,
                        GeneratedResponse(text: item.key == "G1" ? "It is 4." : "It is 5."))
                }
                return runID
            })
        #expect(report.benchmark == "gsm8k" && report.answers == 2)
        let lem = try #require(report.scores.first { $0.scorer == "gsm8k-lem" })
        #expect(lem.dimension == "correct" && lem.count == 2 && lem.mean == 0.5, "\(report.scores)")
    }
}
