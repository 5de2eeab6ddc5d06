import Foundation
import LEMCore

/// Something a training run asks, between iterations, how good its adapter is so far: it
/// answers a few fixed prompts with the base model plus a saved adapter and scores the answers.
///
/// LEMTrainer only schedules probes; the implementation (which needs the inference engine and
/// the scorers) lives above it and is handed in through `LoRATraining.Options.probe`. A probe
/// runs on the training thread, so the run waits for it; it should poll `isCancelled` between
/// tokens so that a stop request is honoured promptly.
public protocol TrainingProbe: Sendable {
    /// Probe after every `every`-th checkpoint save (1: after each save).
    var every: Int { get }

    /// Answers and scores the probe prompts with the adapter at `checkpoint` (a checkpoint file
    /// just written by the run), or with the run's starting weights when `checkpoint` is nil
    /// (the step-0 baseline). A thrown error becomes a probe report carrying the message.
    func probe(step: Int, checkpoint: URL?, isCancelled: @Sendable () -> Bool) throws -> ProbeReport
}
