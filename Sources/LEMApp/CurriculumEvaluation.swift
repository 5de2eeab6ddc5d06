import Foundation
import LEMCore
import LEMEngine
import LEMEval
import LEMScoring
import LEMStore
import LEMTrainer

/// A curriculum's evaluations (its `eval:` blocks), as `lem train --curriculum` runs them once
/// the phases are trained: each target answers its benchmark subset into the results store as a
/// run, the answers are scored, and each scorer's headline mean goes to the combined
/// `<adapter_path>/train-log.jsonl` as a `phase_eval` event, which the Train panel's phase table
/// shows (live when it follows the log, or when it opens the finished folder).
///
/// A phase's run is named `<phase>@<12 hex of its adapter's SHA-256>`, so a retrained phase gets
/// a new run and an evaluated one is resumed (nothing asked again). The starting model (top-level
/// `eval:`) is stored under the name `lem bench run` gives it, so its run is shared with plain
/// benchmark runs of the same model.
public struct CurriculumEvaluation: Sendable {
    /// One evaluation: the weights, the `eval:` block and where it shows in the log.
    public struct Target: Sendable {
        /// The phase (0-based); nil for the model the curriculum starts from.
        public var phase: Int?
        /// The phase's name, `base` for the starting model.
        public var name: String
        /// The `eval:` block (the phase's own, else the top-level one).
        public var evaluation: Curriculum.PhaseEvaluation
        /// The base model with the phase's adapter folder (or the curriculum's starting adapter).
        public var model: ModelKey
        /// The combined log's step when these weights were final.
        public var step: Int
    }

    /// The curriculum evaluated (its adapter folder holds the combined log).
    public let curriculum: Curriculum

    /// The evaluations of `curriculum` (its phases' models mapped already, as `lem train` maps
    /// `ORG/NAME`).
    public init(curriculum: Curriculum) { self.curriculum = curriculum }

    /// The targets in log order: the starting model when there is a top-level `eval:`, then
    /// every phase with an `eval:`.
    public var targets: [Target] {
        guard let first = curriculum.phases.first, let model = first.config.model else { return [] }
        let base = URL(fileURLWithPath: (model as NSString).expandingTildeInPath)
        var targets: [Target] = []
        if let e = curriculum.baseEvaluation {
            let start = first.config.resumeAdapterFile.map {
                URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath).deletingLastPathComponent()
            }
            targets.append(
                Target(
                    phase: nil, name: PhaseEvalReport.baseName, evaluation: e,
                    model: ModelKey(model: base, adapter: start),
                    step: 0))
        }
        for phase in curriculum.phases {
            guard let e = phase.evaluation else { continue }
            targets.append(
                Target(
                    phase: phase.index, name: phase.name, evaluation: e,
                    model: ModelKey(model: base, adapter: phase.folder),
                    step: curriculum.offset(of: phase.index) + phase.config.iters))
        }
        return targets
    }

    /// The benchmark run `target` makes: its benchmark imported into `store` when it is a file
    /// (or `seeds`), the kernel read when the block asks for one.
    public func plan(_ target: Target, store: ResultStore, paths: LEMPaths) throws -> BenchRunPlan {
        let e = target.evaluation
        let benchmark = try BenchmarkSource.resolve(e.benchmark, store: store, seedsDirectory: paths.seedsDirectory)
        let mode = KernelMode(rawValue: e.kernel) ?? .none
        var kernel: EthicsKernel?
        if mode != .none {
            guard let folder = paths.kernelDirectory else {
                throw AppError("eval of \(target.name): kernel \(e.kernel) needs a kernel/ folder (set LEM_HOME)")
            }
            kernel = try EthicsKernel.load(directory: folder)
        }
        var name: String?
        if let phase = target.phase {
            let weights = curriculum.phases[phase].folder.appendingPathComponent(LoRAAdapter.weightsFile)
            name = "\(target.name)@\(SHA256.hex(try Data(contentsOf: weights)).prefix(12))"
        }
        let plan = BenchRunPlan(
            model: target.model, modelName: name, benchmark: benchmark, limit: e.limit, kernelMode: mode,
            kernel: kernel, maxTokens: e.maxTokens, seed: UInt64(max(0, e.seed)))
        try plan.validate()
        return plan
    }

    /// Scores the answers of run `runID` (made by `plan` for `target`) with the block's scorers,
    /// appends the `phase_eval` event to the combined log and returns it.
    public func record(_ target: Target, plan: BenchRunPlan, runID: Int64, store: ResultStore) throws
        -> PhaseEvalReport
    {
        let scorers = try ScoringPass.scorers(named: target.evaluation.scorers)
        let model = plan.spec.model
        _ = try ScoringPass.run(scorers, store: store, benchmarks: [plan.benchmark], models: [model])
        let ids = Set(try store.runAnswers(runID).map(\.responseID))
        let answers = try store.responses(benchmarks: [plan.benchmark], models: [model]).filter {
            ids.contains($0.responseID)
        }
        let scores = scorers.filter { $0.applies(to: plan.benchmark) }.map { scorer in
            var dimension = scorer.headlineDimension
            var values: [Double] = []
            for a in answers {
                let all = scorer.score(ScoringInput(prompt: a.prompt, response: a.response, reference: a.reference))
                let headline = all.first { $0.dimension == scorer.headlineDimension } ?? all.first
                dimension = dimension ?? headline?.dimension
                if let v = headline?.value, v.isFinite { values.append(v) }
            }
            let mean = values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
            return PhaseEvalReport.Score(scorer: scorer.name, dimension: dimension, mean: mean, count: values.count)
        }
        let report = PhaseEvalReport(
            step: target.step, phase: target.phase, name: target.name, run: model, benchmark: plan.benchmark,
            answers: answers.count, scores: scores)
        let log = try TrainLog(url: curriculum.adapterFolder.appendingPathComponent("train-log.jsonl"), append: true)
        try log.append(.phaseEval(report))
        return report
    }

    /// Evaluates `target`: plans its run, refuses one another process is answering, loads the
    /// model with `load`, answers with `answer` (by default `plan.run`; the CLI adds progress and
    /// Ctrl-C), then `record`s the scores.
    public func evaluate(
        _ target: Target, store: ResultStore, paths: LEMPaths, load: (ModelKey) throws -> LoadedModel,
        announce: (BenchRunPlan) -> Void = { _ in },
        answer: ((BenchRunPlan, LoadedModel) async throws -> Int64)? = nil
    ) async throws -> PhaseEvalReport {
        let plan = try plan(target, store: store, paths: paths)
        try plan.checkUnclaimed(store: store)
        announce(plan)
        let model = try load(target.model)
        let runID: Int64
        if let answer {
            runID = try await answer(plan, model)
        } else {
            runID = try await plan.run(store: store, model: model)
        }
        return try record(target, plan: plan, runID: runID, store: store)
    }
}
