import Foundation
import LEMCore
import LEMEngine
import LEMEval
import LEMTrainer

/// The training probe `lem train` and the Train panel hand to the trainer: answers the probe
/// prompts with the base model plus the checkpoint just saved, scored by the LEK heuristic
/// (`AnswerProbe`), reported as a `ProbeReport`.
///
/// Step 0 probes the starting weights: the base model, or — when the run resumes an adapter —
/// that adapter as the run wrote it into its output folder.
public struct CheckpointProbe: TrainingProbe {
    public let every: Int
    public let answers: AnswerProbe
    /// The adapter folder of the starting weights (nil: the base model).
    let startFolder: URL?

    /// The probe a configuration asks for, or nil when `probe_every` is 0. Reads the prompts
    /// now, so a bad prompts file stops the run before the model is loaded.
    public static func make(
        config: TrainingConfig, model: URL, outputFolder: URL, seedsDirectory: URL?,
        load: @escaping @Sendable (ModelKey) throws -> LoadedModel = { try LoadedModel.load($0) }
    ) throws -> CheckpointProbe? {
        guard config.probeEvery > 0 else { return nil }
        let prompts: [ProbePrompt]
        if let file = config.probePrompts {
            prompts = try ProbePrompt.load(file: URL(fileURLWithPath: (file as NSString).expandingTildeInPath))
        } else {
            guard let seeds = seedsDirectory else {
                throw AppError(
                    "probes need prompts: give probe_prompts (--probe-prompts FILE) or run where seeds/ is (or set LEM_HOME)"
                )
            }
            prompts = try ProbePrompt.seeds(directory: seeds, count: config.probeSeeds)
        }
        let answers = AnswerProbe(model: model, prompts: prompts, maxTokens: config.probeMaxTokens, load: load)
        return CheckpointProbe(
            every: config.probeEvery, answers: answers,
            startFolder: config.resumeAdapterFile == nil ? nil : outputFolder)
    }

    public func probe(step: Int, checkpoint: URL?, isCancelled: @Sendable () -> Bool) throws -> ProbeReport {
        let start = Date()
        let folder: URL?
        if let checkpoint {
            // The run's own adapters.safetensors is its folder; a step file is read with the run's config.
            folder =
                checkpoint.lastPathComponent == "adapters.safetensors"
                ? checkpoint.deletingLastPathComponent() : checkpoint
        } else {
            folder = startFolder
        }
        let (answered, cancelled) = try answers.run(adapterFolder: folder, isCancelled: isCancelled)
        return ProbeReport(
            step: step, scorer: AnswerProbe.scorerName,
            answers: answered.map {
                .init(id: $0.prompt.id, prompt: $0.prompt.prompt, answer: $0.text, score: $0.score, tokens: $0.tokens)
            },
            seconds: Date().timeIntervalSince(start),
            error: cancelled ? "cancelled after \(answered.count) of \(answers.prompts.count) prompts" : nil)
    }
}
