import Foundation
import LEMCore

/// A LoRA training run with mlx_lm's loop: the same batch order (numpy-seeded), validation
/// schedule, loss normalisation, gradient accumulation, optimizer and schedule semantics,
/// report averages and save points, emitting `TrainingEvent`s as it goes.
///
/// The run is synchronous: call it on a background queue. `isCancelled` is polled after every
/// iteration; a cancelled run saves the current adapter and ends with `.failed("cancelled")`.
///
/// Beyond mlx_lm: every validation that beats the best loss so far writes the adapter to
/// `<output>/best/` (a loadable adapter folder, announced as a `.best` event), and with
/// `early_stopping_patience` N > 0 the run ends after N validations in a row without a new best
/// (the last weights are saved as usual; the best stay in `best/`).
public struct LoRATraining: Sendable {
    /// Choices mlx_lm does not expose, defaulting to the better behaviour; the `.mlxLM`
    /// values reproduce mlx_lm 0.32's numbers exactly.
    public struct Options: Sendable {
        /// How examples are grouped into batches (default: by token count).
        public var batchOrder: BatchOrder = .tokenCount
        /// Which targets the loss counts (default: exactly the real next tokens).
        public var targetMask: TrainingBatch.TargetMask = .exact
        /// Global-norm gradient clipping before each update; nil (mlx_lm) for none.
        public var maxGradNorm: Double?
        /// Where adapters, checkpoints and `train-log.jsonl` go; nil writes nothing.
        public var outputFolder: URL?
        /// Answers and scores probe prompts at step 0 and after every `probe.every`-th save
        /// (and with the final adapter); needs `outputFolder`. Nil: no probes.
        public var probe: (any TrainingProbe)?
        /// The iterations already done (a resumed run): training continues at the next one, with
        /// the schedule and the batch order where they were (validation draws aside).
        public var startStep = 0
        /// Continue `train-log.jsonl` in the output folder instead of starting it afresh.
        public var appendLog = false
        /// Creates the defaults.
        public init(
            batchOrder: BatchOrder = .tokenCount, targetMask: TrainingBatch.TargetMask = .exact,
            maxGradNorm: Double? = nil, outputFolder: URL? = nil, probe: (any TrainingProbe)? = nil
        ) {
            self.batchOrder = batchOrder
            self.targetMask = targetMask
            self.maxGradNorm = maxGradNorm
            self.outputFolder = outputFolder
            self.probe = probe
        }
    }

    public let config: TrainingConfig
    public let options: Options

    /// Prepares a run; throws when the config is out of range.
    public init(config: TrainingConfig, options: Options = Options()) throws {
        try config.validate()
        self.config = config
        self.options = options
    }

    /// Trains `adapter` on `train`, validating on `valid` (may be empty), and returns the
    /// trained adapter. Every event also goes to `onEvent` (and to the log when writing files).
    public func run(
        model: some LoRALossModel, adapter initial: LoRAAdapter, train: [TokenizedExample], valid: [TokenizedExample],
        isCancelled: @Sendable () -> Bool = { false }, onEvent: (TrainingEvent) -> Void = { _ in }
    ) throws -> LoRAAdapter {
        var adapter = try preparedAdapter(initial, model: model)
        var random = NumpyRandomState(seed: UInt32(truncatingIfNeeded: config.seed))
        var batches = try BatchIterator(
            examples: train, batchSize: config.batchSize, maxSeqLength: config.maxSeqLength,
            order: options.batchOrder, name: "train")
        let validation =
            valid.isEmpty
            ? nil
            : try BatchIterator(
                examples: valid, batchSize: config.batchSize, maxSeqLength: config.maxSeqLength,
                order: options.batchOrder,
                name: "valid")
        var optimizer = try config.makeOptimizer()
        let schedule = try config.makeSchedule()
        var accumulator = try GradientAccumulator(steps: config.gradAccumulationSteps)
        var parameters = adapter.trainableParameters
        let start = options.startStep
        guard start < config.iters else {
            throw TrainingConfigError.invalid(
                key: "iters",
                reason: "the run to resume is at iteration \(start): iters \(config.iters) leaves nothing to train")
        }
        // A resumed run takes the batches after the ones it trained on.
        for _ in 0..<start { _ = batches.next(random: &random) }
        let log = try options.outputFolder.map { folder -> TrainLog in
            try adapter.write(to: folder, config: config)
            return try TrainLog(url: folder.appendingPathComponent("train-log.jsonl"), append: options.appendLog)
        }
        func emit(_ event: TrainingEvent) throws {
            try log?.append(event)
            onEvent(event)
        }
        var lastProbe: Int?
        func probe(step: Int, checkpoint: URL?) throws {
            guard let probe = options.probe, options.outputFolder != nil else { return }
            lastProbe = step
            try emit(.probe(Self.runProbe(probe, step: step, checkpoint: checkpoint, isCancelled: isCancelled)))
        }
        let runStart = Date()
        try emit(.started(step: start, totalSteps: config.iters))
        if start == 0 { try probe(step: 0, checkpoint: nil) }
        var saves = 0
        var allTokens = 0.0
        var warnedNaN = false

        var losses = 0.0
        var tokens = 0.0
        var steps = 0
        var trainedTokens = 0
        var trainTime = 0.0
        // Optimizer updates done before a resumed run, so the schedule continues where it was.
        let updatesBefore = start / config.gradAccumulationSteps
        var learningRate = schedule.value(at: updatesBefore)
        var best = Double.infinity
        var sinceBest = 0
        var finalStep = config.iters
        for it in (start + 1)...config.iters {
            // mlx_lm fetches the batch before validating (its zip pulls the generator first).
            let batch = batches.next(random: &random)
            if let validation, it == 1 || it % config.stepsPerEval == 0 || it == config.iters {
                try emit(.validating(step: it - 1))
                let start = Date()
                let loss = evaluate(
                    model: model, adapter: adapter, batches: validation, limit: config.valBatches, random: &random)
                try emit(.validation(step: it - 1, valLoss: loss, valTime: Date().timeIntervalSince(start)))
                if loss.isNaN && !warnedNaN {
                    warnedNaN = true
                    try emit(
                        .warning(
                            step: it - 1,
                            message: "validation loss is NaN: the validation batches have no "
                                + "unmasked target token (check mask_prompt and max_seq_length), or training diverged"))
                }
                if loss < best {
                    best = loss
                    sinceBest = 0
                    if let folder = options.outputFolder {
                        let bestFolder = folder.appendingPathComponent(Self.bestFolder)
                        try adapter.write(to: bestFolder, config: config)
                        try emit(
                            .best(
                                step: it - 1, valLoss: loss,
                                path: bestFolder.appendingPathComponent(LoRAAdapter.weightsFile).path))
                    }
                } else {
                    sinceBest += 1
                    if config.earlyStoppingPatience > 0 && sinceBest >= config.earlyStoppingPatience {
                        finalStep = it - 1  // the weights validated here are the last ones
                        break
                    }
                }
            }
            let start = Date()
            let dropout = LoRADropout(
                probability: adapter.parameters.dropout, seed: UInt64(truncatingIfNeeded: config.seed), step: it)
            let (loss, count, gradients) = model.lossAndFloatGradients(
                batch: batch, mask: options.targetMask, adapter: adapter,
                computeGradients: true, dropout: dropout)
            let flat = adapter.flatGradients(gradients)
            if var update = accumulator.add(flat) {
                if let maxNorm = options.maxGradNorm { Gradients.clipGlobalNorm(&update, maxNorm: maxNorm) }
                learningRate = schedule.value(at: updatesBefore + optimizer.step)
                optimizer.update(parameters: &parameters, gradients: update, learningRate: Float(learningRate))
                adapter.setTrainableParameters(parameters)
            }
            losses += loss
            tokens += count
            allTokens += count
            steps += 1
            trainTime += Date().timeIntervalSince(start)

            if it % config.stepsPerReport == 0 || it == config.iters {
                trainedTokens += Int(tokens)
                try emit(
                    .trainReport(
                        .init(
                            step: it, loss: losses / Double(steps), lr: learningRate,
                            itPerSec: Double(steps) / max(trainTime, 1e-9),
                            tokensPerSec: tokens / max(trainTime, 1e-9), trainedTokens: trainedTokens,
                            peakMemMB: Self.peakMemoryMB(),
                            elapsed: Date().timeIntervalSince(runStart))))
                losses = 0
                tokens = 0
                steps = 0
                trainTime = 0
            }
            if it % config.saveEvery == 0, let folder = options.outputFolder {
                let url = try adapter.writeCheckpoint(to: folder, step: it)
                try emit(.saved(step: it, path: url.path))
                saves += 1
                if let every = options.probe?.every, saves % max(every, 1) == 0 { try probe(step: it, checkpoint: url) }
            }
            if isCancelled() {
                if let folder = options.outputFolder { try adapter.write(to: folder, config: config) }
                try emit(.failed(step: it, message: TrainingEvent.cancelledMessage))
                return adapter
            }
        }
        if allTokens == 0 {
            try emit(
                .warning(
                    step: finalStep,
                    message: "0 tokens trained: every target token was masked or cut "
                        + "(check mask_prompt, max_seq_length and the data); the adapter is unchanged"))
        }
        var path = ""
        if let folder = options.outputFolder {
            try adapter.write(to: folder, config: config)
            path = folder.appendingPathComponent(LoRAAdapter.weightsFile).path
            if lastProbe != finalStep { try probe(step: finalStep, checkpoint: URL(fileURLWithPath: path)) }
        }
        try emit(.finished(step: finalStep, path: path))
        return adapter
    }

    /// Warnings about a run that can start but likely teaches nothing, for the front ends to show
    /// before they start it (the run itself warns, as `.warning` events, about a NaN validation
    /// loss and about training no token at all).
    public static func warnings(
        config: TrainingConfig, adapter: LoRAAdapter, model: some LoRALossModel,
        hasValidation: Bool
    ) -> [String] {
        var out: [String] = []
        if config.numLayers == 0 { out.append("num_layers is 0: no layer is adapted, so nothing is trained") }
        if !hasValidation {
            out.append(
                "no validation set (valid.jsonl missing or empty): no validation loss, no best/ adapter, "
                    + "no early stopping")
        }
        if let expected = try? config.adaptedLayers(layerCount: model.blockCount) {
            let present = Set(adapter.weights.map(\.layer))
            if !adapter.weights.isEmpty, present != Set(expected) {
                let list = present.sorted().map(String.init).joined(separator: ", ")
                out.append(
                    "the adapter adapts layers [\(list)] but num_layers \(config.numLayers) selects "
                        + "\(expected.lowerBound)..<\(expected.upperBound) of \(model.blockCount)")
            }
        }
        return out
    }

    /// The sub-folder of the output folder that holds the best-validation adapter.
    public static let bestFolder = "best"

    /// Runs one probe; a thrown error becomes the report's message, so that a probe never
    /// fails the run.
    static func runProbe(_ probe: any TrainingProbe, step: Int, checkpoint: URL?, isCancelled: @Sendable () -> Bool)
        -> ProbeReport
    {
        let start = Date()
        do {
            return try probe.probe(step: step, checkpoint: checkpoint, isCancelled: isCancelled)
        } catch {
            return ProbeReport(
                step: step, scorer: nil, answers: [], seconds: Date().timeIntervalSince(start), error: "\(error)")
        }
    }

    /// mlx_lm's `evaluate`: Σ(batch loss · batch tokens) ÷ Σ tokens over up to `limit` batches
    /// (-1 all) of one freshly permuted pass.
    public func evaluate(
        model: some LoRALossModel, adapter: LoRAAdapter, batches: BatchIterator,
        limit: Int, random: inout NumpyRandomState
    ) -> Double {
        var total = 0.0
        var count = 0.0
        for batch in batches.evaluationBatches(limit: limit, random: &random) {
            let (loss, tokens, _) = model.lossAndFloatGradients(
                batch: batch, mask: options.targetMask, adapter: adapter,
                computeGradients: false, dropout: nil)
            total += loss * tokens
            count += tokens
        }
        return count > 0 ? total / count : .nan
    }

    /// The process's peak resident memory in MB (`VmHWM`), 0 where unavailable.
    static func peakMemoryMB() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return 0 }
        let kilobytes = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
        return kilobytes / 1024
    }
}
