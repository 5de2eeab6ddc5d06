import ArgumentParser
import Foundation
import LEMApp
import LEMCore
import LEMTrainer

/// `lem train`: LoRA fine-tuning with mlx_lm's flags and YAML config (`mlx_lm.lora`).
///
/// Flags override the YAML file, which overrides mlx_lm's defaults. The data folder and config
/// are checked completely before the model is loaded, so a bad line or key stops the run first.
struct TrainCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract:
            "LoRA fine-tuning with mlx_lm's options (mlx_lm.lora); events go to stdout and <adapter-path>/train-log.jsonl.",
        discussion: """
            The base model stays in its stored encoding (GGUF Q4_K/Q6_K/Q8_0, MLX 4/8-bit, bf16, f32): \
            quantized bases train as QLoRA, decoded tile by tile into BLAS. Only the adapted blocks \
            run backward; --grad-checkpoint keeps one input per block and recomputes the rest.

            Beyond this machine: --export mlx_lm DIR or --export trl DIR writes the same run (config, \
            data, README, launch.sh) for mlx_lm (Macs, mlx.launch) or TRL + PEFT (GPUs, Accelerate) \
            instead of training. --backend mlx_lm trains here with an installed mlx_lm (--mlx-lm PATH, \
            else $LEM_MLX_LM, else mlx_lm on PATH), its progress written to train-log.jsonl as lem's own.
            """)

    @Option(name: [.customShort("c"), .long], help: "A YAML config file with mlx_lm's training options.") var config:
        String?
    @Option(
        help: ArgumentHelp(
            "A curriculum YAML: shared train keys, then 'phases:' [{name, data, iters, …}], each phase "
                + "starting from the previous one's adapter (docs/CURRICULUM.md)."))
    var curriculum: String?
    @OptionGroup var database: DatabaseOption
    @Option(help: "Model directory (config.json + safetensors), .gguf file, or ORG/NAME in the Hugging Face cache.")
    var model: String?
    @Flag(help: "Do training.") var train = false
    @Option(help: "Folder with train.jsonl, valid.jsonl, test.jsonl.") var data: String?
    @Option(help: "Fine-tuning type: lora or dora (DoRA trains a per-output magnitude too).") var fineTuneType: String?
    @Option(help: "adam, adamw or sgd.") var optimizer: String?
    @Flag(help: "Compute the loss on the completion / last assistant turn only.") var maskPrompt = false
    @Option(help: "Blocks to adapt, from the last (-1 = all).") var numLayers: Int?
    @Option(help: "Minibatch size.") var batchSize: Int?
    @Option(help: "Iterations to train for.") var iters: Int?
    @Option(help: "Validation batches, -1 for the whole set.") var valBatches: Int?
    @Option(help: "Learning rate (ignored with an lr_schedule).") var learningRate: Double?
    @Option(help: "Steps between loss reports.") var stepsPerReport: Int?
    @Option(help: "Steps between validations.") var stepsPerEval: Int?
    @Option(help: "Batches per optimizer update.") var gradAccumulationSteps: Int?
    @Option(help: "Adapter weights to start from.") var resumeAdapterFile: String?
    @Option(help: "Folder for adapters, checkpoints and train-log.jsonl.") var adapterPath: String?
    @Option(help: "Save a checkpoint every N iterations.") var saveEvery: Int?
    @Flag(help: "Evaluate on the test set after training.") var test = false
    @Option(help: "Test batches, -1 for the whole set.") var testBatches: Int?
    @Option(help: "Maximum sequence length; longer examples are truncated.") var maxSeqLength: Int?
    @Flag(help: "Keep only each adapted block's input and recompute its activations in the backward (less memory).")
    var gradCheckpoint = false
    @Flag(help: .hidden) var oracle = false
    @Option(help: "Seed for batch shuffling (numpy-compatible) and adapter initialisation.") var seed: Int?
    @Flag(help: "Reproduce mlx_lm 0.32 exactly: batches in file order and its extra padding target.") var mlxParity =
        false
    @Option(help: "Clip gradients to this global norm (mlx_lm does not clip).") var maxGradNorm: Double?
    @Option(help: "Also export the trained adapter in PEFT format to this folder.") var peftExport: String?
    @Option(
        help:
            "Stop after this many validations in a row without a new best validation loss (0 = never). The best adapter is always kept in <adapter-path>/best/."
    )
    var earlyStoppingPatience: Int?
    @Option(
        help: "Probe every N saves: answer a few prompts with the checkpoint and score them (LEK heuristic); 0 = off.")
    var probeEvery: Int?
    @Option(help: "Probe prompts: a seeds JSON array, JSONL with 'prompt', or one prompt per line.") var probePrompts:
        String?
    @Option(help: "Without --probe-prompts: probe with this many seed prompts, spread across domains (default 5).")
    var probeSeeds: Int?
    @Option(help: "New tokens per probe answer, greedy (default 96).") var probeMaxTokens: Int?
    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp(
            "Instead of training, write the run for another trainer into a new folder: mlx_lm DIR or trl DIR.",
            valueName: "format dir"))
    var export: [String] = []
    @Option(help: "Who trains: lem, or mlx_lm (runs mlx_lm lora as a child process).") var backend: TrainBackend =
        .lem
    @Option(name: .customLong("mlx-lm"), help: "The mlx_lm executable for --backend mlx_lm.") var mlxLM: String?

    /// The configuration: defaults, then the YAML file, then the flags given.
    func resolvedConfig() throws -> TrainingConfig {
        var resolved = try config.map { try TrainingConfig(yamlFile: URL(fileURLWithPath: $0)) } ?? TrainingConfig()
        for (key, value) in flagValues() { try resolved.set(key, to: value) }
        try resolved.validate()
        return resolved
    }

    /// The config keys the flags given set, in the order `lem train` applies them.
    func flagValues() -> [(key: String, value: ConfigValue)] {
        var values: [(key: String, value: ConfigValue)] = []
        func set(_ key: String, _ value: CustomStringConvertible?) {
            guard let value else { return }
            values.append(
                (key, .scalar(value.description, place: "--" + key.replacingOccurrences(of: "_", with: "-"))))
        }
        set("model", model)
        set("data", data)
        set("fine_tune_type", fineTuneType)
        set("optimizer", optimizer)
        set("num_layers", numLayers)
        set("batch_size", batchSize)
        set("iters", iters)
        set("val_batches", valBatches)
        set("learning_rate", learningRate)
        set("steps_per_report", stepsPerReport)
        set("steps_per_eval", stepsPerEval)
        set("grad_accumulation_steps", gradAccumulationSteps)
        set("resume_adapter_file", resumeAdapterFile)
        set("adapter_path", adapterPath)
        set("save_every", saveEvery)
        set("test_batches", testBatches)
        set("max_seq_length", maxSeqLength)
        set("seed", seed)
        set("probe_every", probeEvery)
        set("probe_prompts", probePrompts)
        set("probe_seeds", probeSeeds)
        set("probe_max_tokens", probeMaxTokens)
        set("early_stopping_patience", earlyStoppingPatience)
        if train { set("train", true) }
        if test { set("test", true) }
        if maskPrompt { set("mask_prompt", true) }
        if gradCheckpoint { set("grad_checkpoint", true) }
        return values
    }

    /// Batching and clipping choices from the flags.
    var trainingOptions: LoRATraining.Options {
        LoRATraining.Options(
            batchOrder: mlxParity ? .mlxLMKeyCount : .tokenCount, targetMask: mlxParity ? .mlxLM : .exact,
            maxGradNorm: maxGradNorm)
    }

    /// Prepares a run of `config` with the flags' options and its probe.
    func prepare(_ config: TrainingConfig, in context: AppContext) throws -> PreparedTrainingRun {
        let seeds = context.paths.seedsDirectory
        let prepared: PreparedTrainingRun
        do {
            prepared = try PreparedTrainingRun.prepare(
                config: config, options: trainingOptions, modelKind: oracle ? .oracle : .fast,
                engineOptions: context.engineOptions,
                makeProbe: { model, folder in
                    try CheckpointProbe.make(
                        config: config, model: model, outputFolder: folder, seedsDirectory: seeds,
                        load: { try context.load($0) })
                })
        } catch let error as TrainingConfigError {
            if case .incomplete(let message) = error { throw ValidationError(message) }
            throw error
        }
        for key in config.ignoredKeys { printError("note: config key '\(key)' has no effect here") }
        for warning in prepared.warnings { printError("warning: " + warning) }
        if config.train {
            let kind = config.fineTuneType == "dora" ? "DoRA" : "LoRA"
            printError(
                "training \(prepared.trainedParameterCount) \(kind) parameters on \(prepared.trainSet.count) "
                    + "examples (\(prepared.validSet.count) validation)")
        }
        return prepared
    }

    /// Prints a run's event as mlx_lm does (validation results only, one flushed line each).
    static func printEvent(_ event: TrainingEvent) {
        if case .validating = event { return }
        print(describe(event))
        fflush(nil)  // one line per event even when stdout is a file or pipe
    }

    /// Runs `body` with Ctrl-C handled: the first sets the returned flag (the run saves its adapter
    /// after the current iteration and stops), a second quits at once (the last save is on disk).
    static func withInterrupts<T>(_ body: (StopFlag) throws -> T) rethrows -> T {
        let stop = StopFlag()
        let interrupts = InterruptWatch { count in
            if count == 1 {
                printError("stopping after this iteration… (Ctrl-C again to quit at once)")
                stop.set()
            } else {
                Foundation.exit(130)
            }
        }
        defer { interrupts.stop() }
        return try body(stop)
    }

    func run(in context: AppContext) async throws {
        if let curriculum {
            guard export.isEmpty, backend == .lem else {
                throw ValidationError("--curriculum runs here only; --export and --backend mlx_lm take a single run")
            }
            return try await runCurriculum(curriculum, in: context)
        }
        if !export.isEmpty { return try runExport(in: context) }
        if backend == .mlxLM { return try runMLXLM(in: context) }
        var resolved = try resolvedConfig()
        resolved.model = resolved.model.map(context.cachedModelPath)  // model: ORG/NAME, as mlx_lm takes it
        let config = resolved
        let prepared = try prepare(config, in: context)
        var adapter = prepared.adapter
        if config.train {
            let stopped = try Self.withInterrupts { stop in
                adapter = try prepared.train(isCancelled: { stop.isSet }, onEvent: Self.printEvent)
                return stop.isSet
            }
            if stopped { throw ExitCode(130) }
            if let peftExport {
                try adapter.writePEFT(to: context.paths.resolve(peftExport), baseModel: prepared.modelURL.path)
            }
        }
        if config.test {
            let loss = try prepared.test(adapter)
            print(String(format: "Test loss %.3f, Test ppl %.3f.", loss, Foundation.exp(loss)))
        }
    }

    /// A path with a leading `~` expanded (YAML recipes name the model cache that way).
    static func expand(_ path: String) -> String { (path as NSString).expandingTildeInPath }

    /// One human-readable line per event, in mlx_lm's wording.
    static func describe(_ event: TrainingEvent) -> String {
        switch event {
        case .started(let step, let total):
            return "Starting at iteration \(step) of \(total)"
        case .trainReport(let r):
            // Fields another trainer did not report (mlx_lm ≥ 0.31 prints no rate, it/s or memory) are left out.
            var parts = [String(format: "Iter %d: Train loss %.3f", r.step, r.loss)]
            if let lr = r.lr { parts.append(String(format: "Learning Rate %.3e", lr)) }
            if let v = r.itPerSec { parts.append(String(format: "It/sec %.3f", v)) }
            if let v = r.tokensPerSec { parts.append(String(format: "Tokens/sec %.1f", v)) }
            if let v = r.trainedTokens { parts.append("Trained Tokens \(v)") }
            if let v = r.peakMemMB { parts.append(String(format: "Peak mem %.1f MB", v)) }
            return parts.joined(separator: ", ")
        case .validating(let step): return "Iter \(step + 1): validating…"
        case .validation(let step, let loss, let time):
            return String(format: "Iter %d: Val loss %.3f, Val took %.3fs", step + 1, loss, time ?? .nan)
        case .saved(let step, let path): return "Iter \(step): Saved adapter weights to \(path)"
        case .best(let step, let loss, let path):
            return String(format: "Iter %d: Best validation loss %.3f so far, adapter kept in ", step + 1, loss) + path
        case .finished(_, let path): return "Saved final weights to \(path)"
        case .failed(let step, let message): return "Iter \(step): stopped: \(message)"
        case .warning(let step, let message): return "Iter \(step): warning: \(message)"
        case .phase(let step, let index, let name): return "Iter \(step): phase \(index + 1) '\(name)'"
        case .phaseEval(let e):
            return "Iter \(e.step): \(e.phase.map { "phase \($0 + 1) '\(e.name)'" } ?? "the starting model") scored "
                + "on \(e.benchmark) (run \(e.run), \(e.answers) answers): \(e.scoresLine)"
        case .probe(let p):
            let score = p.meanScore.map { String(format: "%.3f", $0) } ?? "none"
            var line =
                "Iter \(p.step): Probe score \(score) (\(p.scorer ?? "probe"), \(p.answers.count) prompts, "
                + String(format: "%.1fs)", p.seconds ?? 0)
            if let error = p.error { line += ": " + error }
            return line
        }
    }
}

/// A flag one thread sets and another polls.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    /// Whether `set()` was called.
    var isSet: Bool { lock.withLock { value } }

    /// Raises the flag.
    func set() { lock.withLock { value = true } }
}
