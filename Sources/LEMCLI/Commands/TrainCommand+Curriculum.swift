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
        for phase in curriculum.phases {
            guard let scorers = phase.evaluation?.scorers else { continue }
            do { _ = try ScoringPass.scorers(named: scorers) } catch {
                throw ValidationError("\(path): phase \(phase.index + 1) '\(phase.name)': eval.scorers: \(error)")
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
        for phase in curriculum.phases where phase.evaluation != nil { try await evaluate(phase, in: context) }
    }

    /// Answers the phase's `eval:` benchmark with its adapter as a run named `<phase>@<adapter
    /// SHA-256 prefix>` (so a retrained phase is not confused with its earlier adapter; an
    /// evaluated one is resumed, not asked again), scores it and prints each scorer's mean.
    func evaluate(_ phase: Curriculum.Phase, in context: AppContext) async throws {
        guard let e = phase.evaluation, let model = phase.config.model else { return }
        let store = try database.open(in: context)
        let benchmark = try BenchRunCommand.benchmarkName(
            e.benchmark, store: store, seeds: context.paths.seedsDirectory)
        let mode = KernelMode(rawValue: e.kernel) ?? .none
        let kernel = mode == .none ? nil : try BenchRunCommand.kernel(file: nil, paths: context.paths)
        let adapter = try Data(contentsOf: phase.folder.appendingPathComponent(LoRAAdapter.weightsFile))
        let key = ModelKey(model: URL(fileURLWithPath: (model as NSString).expandingTildeInPath), adapter: phase.folder)
        let plan = BenchRunPlan(
            model: key, modelName: "\(phase.name)@\(SHA256.hex(adapter).prefix(12))", benchmark: benchmark,
            limit: e.limit, kernelMode: mode, kernel: kernel, maxTokens: e.maxTokens, seed: UInt64(max(0, e.seed)))
        do { try plan.validate() } catch { throw ValidationError("\(error)") }
        try plan.checkUnclaimed(store: store)
        printError("phase \(phase.index + 1) '\(phase.name)': evaluating on \(benchmark) as \(plan.spec.model)…")
        let (runID, _) = try await BenchRunCommand.execute(plan, store: store, model: try context.load(key))
        let scorers = try ScoringPass.scorers(named: e.scorers)
        _ = try ScoringPass.run(scorers, store: store, benchmarks: [benchmark], models: [plan.spec.model])
        let answers = try store.runAnswers(runID)
        var means: [String] = []
        for scorer in scorers where scorer.applies(to: benchmark) {
            let values = answers.compactMap { scorer.headline(ScoringInput(prompt: $0.prompt, response: $0.text)) }
            let mean = values.isEmpty ? "none" : String(format: "%.3f", values.reduce(0, +) / Double(values.count))
            let dimension = scorer.headlineDimension.map { ".\($0)" } ?? ""
            means.append("\(scorer.name)\(dimension) \(mean) (\(values.count) answers)")
        }
        print("Phase \(phase.name) eval (run \(runID), \(benchmark)): " + means.joined(separator: ", "))
    }
}
