import Foundation
import LEMCore
import LEMEngine
import LEMFormats

/// A training run checked and loaded, ready to train or test: the one preparation `lem train`
/// and the Train panel share.
///
/// `prepare` does everything that can fail before the first iteration, cheapest first, so a bad
/// line or key stops the run before the model is loaded: the data folder is read and checked,
/// the probe prompts are read, then the base model is opened, the splits tokenized with its chat
/// template, the adapter made (seeded), resumed from a file, or — for a test-only run — read
/// from the adapter folder.
public struct PreparedTrainingRun: Sendable {
    /// How the base model is trained.
    public enum ModelKind: Sendable {
        /// The fast QLoRA model (base weights in their stored encoding, tiled into BLAS).
        case fast
        /// The naive dense reference (every weight expanded, one sequence at a time).
        case oracle
    }

    /// What `prepare` reports while it works (for a status line).
    public enum Stage: Sendable, Equatable {
        case checkingData
        case loadingModel(String)
        case tokenized(train: Int, valid: Int, truncated: Int)
    }

    public let config: TrainingConfig
    /// Where adapters, checkpoints and `train-log.jsonl` go.
    public let adapterFolder: URL
    public let modelURL: URL
    public let trainSet: [TokenizedExample]
    public let validSet: [TokenizedExample]
    public let testSet: [TokenizedExample]
    public let model: any LoRALossModel
    /// The starting adapter (fresh, resumed, or the folder's for a test-only run).
    public let adapter: LoRAAdapter
    public let training: LoRATraining
    /// What the user should know before the run: truncated examples, no validation set, no
    /// layer adapted, a resumed adapter over other layers (`LoRATraining.warnings`).
    public let warnings: [String]

    /// Checks and loads everything a run of `config` needs.
    ///
    /// - `makeProbe`: the probe for the run (nil: none); called after the data checks and before
    ///   the model loads, so a bad prompts file fails early.
    /// - `options`: batching and clipping choices; its `outputFolder` and `probe` are set here.
    public static func prepare(
        config: TrainingConfig, options: LoRATraining.Options = LoRATraining.Options(), modelKind: ModelKind = .fast,
        engineOptions: EngineOptions = EngineOptions(),
        makeProbe: (_ model: URL, _ outputFolder: URL) throws -> (any TrainingProbe)? = { _, _ in nil },
        stage: (Stage) -> Void = { _ in }
    ) throws -> PreparedTrainingRun {
        stage(.checkingData)
        let (modelPath, folder) = try checkInputs(config)
        let modelURL = URL(fileURLWithPath: Self.expand(modelPath))
        let adapterFolder = URL(fileURLWithPath: Self.expand(config.adapterPath)).standardizedFileURL
        var options = options
        options.outputFolder = adapterFolder
        if config.train, let resume = config.resumeAdapterFile {
            // An adapter of this run's own folder (its last weights or a checkpoint) resumes the run:
            // the iteration count, schedule and log go on. Another run's adapter is only where the
            // weights start, as in mlx_lm: iteration 1, a fresh schedule and optimizer, a new log.
            let file = URL(fileURLWithPath: Self.expand(resume)).standardizedFileURL
            let ownRun = file.deletingLastPathComponent().path == adapterFolder.path
            options.startStep = ownRun ? Self.resumeStep(for: file) : 0
            options.appendLog = ownRun
        }
        options.probe = config.train ? try makeProbe(modelURL, adapterFolder) : nil

        stage(.loadingModel(modelURL.lastPathComponent))
        let files = try ModelFiles.open(modelURL)
        let renderer = try TemplateRenderer(model: modelURL)
        var warnings: [String] = []
        var truncated = 0
        func tokenize(_ split: DatasetSplit?, _ used: Bool) throws -> [TokenizedExample] {
            guard used, let split else { return [] }
            let examples = try split.tokenize(with: renderer, maskPrompt: config.maskPrompt)
            let long = examples.filter { $0.tokens.count > config.maxSeqLength }.count
            if long > 0 {
                truncated += long
                warnings.append(
                    "\(long) of \(examples.count) examples in \(split.file.lastPathComponent) are longer than "
                        + "\(config.maxSeqLength) tokens and will be truncated")
            }
            return examples
        }
        let trainSet = try tokenize(folder.train, config.train)
        let validSet = try tokenize(folder.valid, config.train)
        let testSet = try tokenize(folder.test, config.test)
        stage(.tokenized(train: trainSet.count, valid: validSet.count, truncated: truncated))

        let model: any LoRALossModel
        var random = NumpyRandomState(seed: UInt32(truncatingIfNeeded: config.seed))
        let adapter: LoRAAdapter
        switch modelKind {
        case .oracle:
            let naive = try TrainableTransformer<Float>(
                config: files.config, tensors: files.tensors, source: files.source)
            model = naive
            adapter = try Self.startingAdapter(config, adapterFolder) {
                try naive.makeAdapter(parameters: config.loraParameters, numLayers: config.numLayers, using: &random)
            }
        case .fast:
            var fast = try LoRATransformer(
                config: files.config, tensors: files.tensors, source: files.source,
                options: engineOptions)
            fast.gradientCheckpointing = config.gradCheckpoint
            model = fast
            adapter = try Self.startingAdapter(config, adapterFolder) {
                try fast.makeAdapter(parameters: config.loraParameters, numLayers: config.numLayers, using: &random)
            }
        }
        if config.train {
            warnings += LoRATraining.warnings(
                config: config, adapter: adapter, model: model, hasValidation: !validSet.isEmpty)
        }
        return PreparedTrainingRun(
            config: config, adapterFolder: adapterFolder, modelURL: modelURL, trainSet: trainSet, validSet: validSet,
            testSet: testSet, model: model, adapter: adapter,
            training: try LoRATraining(config: config, options: options),
            warnings: warnings)
    }

    /// The checks a run starts with, before any model is opened: the config is valid and names a
    /// model, a data folder and something to do; every split the run uses reads cleanly and holds
    /// at least one batch. Returns the model as given and the data folder (`lem train --export`
    /// writes exactly what a run here would read).
    public static func checkInputs(_ config: TrainingConfig) throws -> (model: String, data: DatasetFolder) {
        try config.validate()
        guard config.train || config.test else {
            throw TrainingConfigError.incomplete("give --train and/or --test (or train: true in the config)")
        }
        guard let modelPath = config.model else {
            throw TrainingConfigError.incomplete("no model: give --model or model: in the config")
        }
        guard let dataPath = config.data else {
            throw TrainingConfigError.incomplete("no data: give --data or data: in the config")
        }
        let folder = try DatasetFolder(folder: URL(fileURLWithPath: Self.expand(dataPath)))
        try folder.validate(training: config.train, testing: config.test, batchSize: config.batchSize)
        return (modelPath, folder)
    }

    /// The adapter a run starts from: the resumed file, a fresh one (training), or the adapter
    /// folder's (a test-only run).
    static func startingAdapter(_ config: TrainingConfig, _ folder: URL, fresh: () throws -> LoRAAdapter) throws
        -> LoRAAdapter
    {
        if let resume = config.resumeAdapterFile {
            return try LoRAAdapter(
                weightsFile: URL(fileURLWithPath: expand(resume)), parameters: config.loraParameters,
                numLayers: config.numLayers)
        }
        return config.train ? try fresh() : try LoRAAdapter(folder: folder)
    }

    /// The iterations an adapter file was trained for, where a resumed run continues: the step in
    /// a checkpoint's name (`0000040_adapters.safetensors`), else the last step the
    /// `train-log.jsonl` beside it reached; 0 when neither says.
    public static func resumeStep(for file: URL) -> Int {
        let name = file.lastPathComponent
        let suffix = "_" + LoRAAdapter.weightsFile
        if name.hasSuffix(suffix), let step = Int(name.dropLast(suffix.count)) { return step }
        let log = file.deletingLastPathComponent().appendingPathComponent("train-log.jsonl")
        guard let text = try? String(contentsOf: log, encoding: .utf8) else { return 0 }
        let lines = text.split(separator: "\n").map(String.init)
        return TrainLogParser.parse(lines, source: log.path).events.reduce(0) { last, event in
            switch event {
            case .trainReport, .saved, .finished, .failed: max(last, event.step)
            default: last
            }
        }
    }

    /// Trainable parameters of the starting adapter; DoRA also trains one magnitude per output
    /// row of each adapted layer (B is R × O).
    public var trainedParameterCount: Int {
        let dora = config.fineTuneType == "dora"
        return adapter.weights.reduce(0) { $0 + $1.a.count + $1.b.count + (dora ? $1.b.count / max(1, $1.rank) : 0) }
    }

    /// Trains from the starting adapter; see `LoRATraining.run`.
    public func train(isCancelled: @Sendable () -> Bool = { false }, onEvent: (TrainingEvent) -> Void = { _ in }) throws
        -> LoRAAdapter
    {
        try training.run(
            model: model, adapter: adapter, train: trainSet, valid: validSet, isCancelled: isCancelled,
            onEvent: onEvent)
    }

    /// The test-set loss of `adapter` (mlx_lm's `--test`).
    public func test(_ adapter: LoRAAdapter) throws -> Double {
        let batches = try BatchIterator(
            examples: testSet, batchSize: config.batchSize, maxSeqLength: config.maxSeqLength,
            order: training.options.batchOrder, name: "test")
        var random = NumpyRandomState(seed: UInt32(truncatingIfNeeded: config.seed))
        return training.evaluate(
            model: model, adapter: adapter, batches: batches, limit: config.testBatches, random: &random)
    }

    /// A path with a leading `~` expanded (YAML recipes name the model cache that way).
    static func expand(_ path: String) -> String { (path as NSString).expandingTildeInPath }
}
