import Foundation
import LEMCore

/// Trains a `Curriculum` phase after phase, resumable at phase granularity.
///
/// Each phase is prepared and trained like a separate `lem train` run (`PreparedTrainingRun`) in
/// its own folder. After a phase's adapter is written, the phase is recorded in
/// `<adapter_path>/curriculum-state.json` (written atomically): its name, a fingerprint of its
/// configuration and the SHA-256 of its adapter. A later run skips the leading phases recorded
/// there whose configuration and adapter are unchanged and continues with the first other one; a
/// phase killed or stopped midway is trained again from its start.
///
/// `<adapter_path>/train-log.jsonl` is the combined log: a `phase` event where each phase begins,
/// then the phase's events moved after the earlier phases' iterations (rebuilt from the finished
/// phases' own logs on a resumed run). The final adapter is copied to `<adapter_path>/`.
public struct CurriculumRun: Sendable {
    /// What the run reports.
    public enum Event: Sendable {
        /// A phase recorded as finished with an unchanged adapter is not trained again.
        case skipped(Curriculum.Phase)
        /// A phase begins training.
        case starting(Curriculum.Phase)
        /// An event of the phase's own run (its own step numbers).
        case training(Curriculum.Phase, TrainingEvent)
        /// A phase finished and was recorded; its adapter is in its folder.
        case finished(Curriculum.Phase)
    }

    /// How a run ended.
    public enum Outcome: Sendable, Equatable {
        /// Every phase finished; the final adapter is `<adapter_path>/adapters.safetensors`.
        case finished(adapter: URL)
        /// Stopped on request during the phase at `index` (its adapter saved, not recorded).
        case stopped(phase: Int)
    }

    /// The state file's name inside the curriculum's adapter folder.
    public static let stateFile = "curriculum-state.json"

    public let curriculum: Curriculum
    /// Training choices outside the config (batch order, clipping); part of each phase's fingerprint.
    public let options: LoRATraining.Options

    /// A run of `curriculum` with `options` for every phase.
    public init(curriculum: Curriculum, options: LoRATraining.Options = LoRATraining.Options()) {
        self.curriculum = curriculum
        self.options = options
    }

    /// The number of leading phases recorded as finished whose configuration and adapter are
    /// unchanged; a missing state file means none. A state file that is not this format is an error.
    public func finishedPhases() throws -> Int {
        let url = curriculum.adapterFolder.appendingPathComponent(Self.stateFile)
        guard let data = FileManager.default.contents(atPath: url.path) else { return 0 }
        guard let value = try? JSONValue.parse(data), let list = value.object?["finished"]?.array else {
            throw CurriculumError.state(
                file: url.path, reason: "expected {\"finished\": [{name, fingerprint, adapter_sha256}]}")
        }
        var count = 0
        for (phase, entry) in zip(curriculum.phases, list) {
            guard let o = entry.object, o["name"]?.string == phase.name,
                o["fingerprint"]?.string == fingerprint(phase),
                let sha = o["adapter_sha256"]?.string, sha == adapterHash(phase)
            else { break }
            count += 1
        }
        return count
    }

    /// Trains the unfinished phases.
    ///
    /// - `prepare`: prepares one phase's run from its configuration (the CLI adds its probe and
    ///   engine options); by default `PreparedTrainingRun.prepare` with this run's options.
    public func run(
        prepare: ((TrainingConfig) throws -> PreparedTrainingRun)? = nil,
        isCancelled: @Sendable () -> Bool = { false }, onEvent: (Event) -> Void = { _ in }
    ) throws -> Outcome {
        let options = self.options
        let prepare = prepare ?? { try PreparedTrainingRun.prepare(config: $0, options: options) }
        let root = curriculum.adapterFolder
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let done = try finishedPhases()
        let total = curriculum.totalSteps
        let log = try TrainLog(url: root.appendingPathComponent("train-log.jsonl"))
        var records: [JSONValue] = []
        for phase in curriculum.phases[..<done] {
            let offset = curriculum.offset(of: phase.index)
            try log.append(.phase(step: offset, index: phase.index, name: phase.name))
            let events = try TrainLog.read(phase.folder.appendingPathComponent("train-log.jsonl"))
            for event in events { try log.append(event.shifted(by: offset, totalSteps: total)) }
            records.append(record(phase))
            onEvent(.skipped(phase))
        }
        for phase in curriculum.phases[done...] {
            let offset = curriculum.offset(of: phase.index)
            try log.append(.phase(step: offset, index: phase.index, name: phase.name))
            onEvent(.starting(phase))
            let prepared = try prepare(phase.config)
            var stopped = false
            var logError: (any Error)?
            _ = try prepared.train(isCancelled: isCancelled) { event in
                if case .failed(_, TrainingEvent.cancelledMessage) = event { stopped = true }
                do { try log.append(event.shifted(by: offset, totalSteps: total)) } catch {
                    logError = logError ?? error
                }
                onEvent(.training(phase, event))
            }
            if let logError { throw logError }
            if stopped { return .stopped(phase: phase.index) }
            records.append(record(phase))
            try writeState(records)
            onEvent(.finished(phase))
        }
        guard let last = curriculum.phases.last else { return .finished(adapter: root) }
        for name in [LoRAAdapter.weightsFile, LoRAAdapter.configFile] {
            let data = try Data(contentsOf: last.folder.appendingPathComponent(name))
            try data.write(to: root.appendingPathComponent(name), options: .atomic)
        }
        return .finished(adapter: root.appendingPathComponent(LoRAAdapter.weightsFile))
    }

    /// The state entry of a phase whose adapter is written.
    func record(_ phase: Curriculum.Phase) -> JSONValue {
        .object([
            "name": .string(phase.name), "fingerprint": .string(fingerprint(phase)),
            "adapter_sha256": .string(adapterHash(phase) ?? "")
        ])
    }

    func writeState(_ records: [JSONValue]) throws {
        let text = JSONValue.object(["finished": .array(records)]).jsonText(sortedKeys: true) + "\n"
        try Data(text.utf8).write(
            to: curriculum.adapterFolder.appendingPathComponent(Self.stateFile), options: .atomic)
    }

    /// A hash of everything that decides a phase's weights: its configuration (mlx_lm's keys,
    /// early stopping) and the run's batching and clipping choices.
    func fingerprint(_ phase: Curriculum.Phase) -> String {
        var settings = phase.config.mlxLMDictionary
        settings["early_stopping_patience"] = phase.config.earlyStoppingPatience
        settings["batch_order"] = "\(options.batchOrder)"
        settings["target_mask"] = "\(options.targetMask)"
        settings["max_grad_norm"] = options.maxGradNorm ?? NSNull()
        let data = (try? JSONSerialization.data(withJSONObject: settings, options: [.sortedKeys])) ?? Data()
        return SHA256.hex(data)
    }

    /// The SHA-256 of a phase's adapter file, nil when it is missing.
    func adapterHash(_ phase: Curriculum.Phase) -> String? {
        FileManager.default.contents(atPath: phase.folder.appendingPathComponent(LoRAAdapter.weightsFile).path)
            .map { SHA256.hex($0) }
    }
}
