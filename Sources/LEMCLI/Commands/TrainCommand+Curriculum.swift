import ArgumentParser
import Foundation
import LEMApp
import LEMCore
import LEMEngine
import LEMEval
import LEMScoring
import LEMStore
import LEMTrainer

/// `lem train --curriculum FILE.yaml`: the phases one after another, resumable per phase.
extension TrainCommand {
    /// Trains the curriculum in `path`; the flags given replace its top-level keys.
    func runCurriculum(_ path: String, in context: AppContext) async throws {
        guard config == nil else {
            throw ValidationError("give either --curriculum or --config: a curriculum holds the shared config itself")
        }
        guard !test else {
            throw ValidationError("--test does not apply to a curriculum; test its final adapter with lem train --test")
        }
        let overrides = flagValues().filter { $0.key != "train" }
        let curriculum = try Curriculum(yamlFile: URL(fileURLWithPath: path), overrides: overrides)
            .mappingModel(context.cachedModelPath)
        for target in CurriculumEvaluation(curriculum: curriculum).targets {
            do { _ = try ScoringPass.scorers(named: target.evaluation.scorers) } catch {
                let what = target.phase.map { "phase \($0 + 1) '\(target.name)'" } ?? "top level"
                throw ValidationError("\(path): \(what): eval.scorers: \(error)")
            }
        }
        let run = CurriculumRun(curriculum: curriculum, options: trainingOptions)
        let count = curriculum.phases.count
        let outcome = try Self.withInterrupts { stop in
            try run.run(
                prepare: { try prepare($0, in: context) }, isCancelled: { stop.isSet },
                onEvent: { event in
                    switch event {
                    case .skipped(let p):
                        printError(
                            "phase \(p.index + 1)/\(count) '\(p.name)': finished earlier, adapter in \(p.folder.path)")
                    case .starting(let p):
                        printError(
                            "phase \(p.index + 1)/\(count) '\(p.name)': \(p.config.iters) iterations on "
                                + (p.config.data ?? "?") + (p.index > 0 ? ", from the previous phase's adapter" : ""))
                    case .training(_, let e): Self.printEvent(e)
                    case .finished(let p): printError("phase \(p.index + 1)/\(count) '\(p.name)' finished")
                    }
                })
        }
        switch outcome {
        case .stopped(let phase):
            printError("stopped in phase \(phase + 1); run the same command again to continue with it")
            throw ExitCode(130)
        case .finished(let adapter):
            print("Curriculum finished: final adapter in \(adapter.path)")
        }
        let evaluation = CurriculumEvaluation(curriculum: curriculum)
        let targets = evaluation.targets
        guard !targets.isEmpty else { return }
        let store = try database.open(in: context)
        for target in targets { try await evaluate(target, of: evaluation, store: store, in: context) }
    }

    /// Answers one `eval:` block (see `CurriculumEvaluation`) with progress on stderr and Ctrl-C
    /// keeping the answers so far, and prints each scorer's mean; the scores also go to the
    /// combined train-log.jsonl for the Train panel.
    func evaluate(
        _ target: CurriculumEvaluation.Target, of evaluation: CurriculumEvaluation, store: ResultStore,
        in context: AppContext
    ) async throws {
        let what = target.phase.map { "phase \($0 + 1) '\(target.name)'" } ?? "the starting model"
        let report: PhaseEvalReport
        do {
            report = try await evaluation.evaluate(
                target, store: store, paths: context.paths, load: { try context.load($0) },
                announce: { printError("\(what): evaluating on \($0.benchmark) as \($0.spec.model)…") },
                answer: { plan, model in try await BenchRunCommand.execute(plan, store: store, model: model).runID })
        } catch let error as ExitCode {
            throw error
        } catch {
            throw CommandFailure(description: "\(what): eval: \(error)")
        }
        print(
            "\(target.phase == nil ? "Base" : "Phase \(target.name)") eval (run \(report.run), \(report.benchmark)): "
                + report.scoresLine)
    }
}
