import Foundation
import LEMEngine
import LEMFormats
import LEMTrainer
import Panels

/// Runs LoRA training in this process for the Train panel: the form's values (over an optional
/// YAML config, over mlx_lm's defaults) go through the same steps as `lem train`, on a
/// background queue; every `TrainingEvent` is posted to the panel as it happens (and written to
/// `<adapter-path>/train-log.jsonl` by the trainer). Stop is cooperative: the trainer checks
/// after each iteration and saves the adapter it has.
final class TrainRunSource: WorkbenchSource, @unchecked Sendable {
    var name: String { "trainer" }
    var isDemo: Bool { false }
    private let queue = DispatchQueue(label: "lem.workbench.train", qos: .userInitiated)
    private let lock = NSLock()
    // Guarded by `lock`.
    private var cancelled = false
    private var running = false
    private var lastRequest: TrainRunRequest?
    private var lastAdapterFolder: URL?

    func start(inbox: EventInbox) {}

    func stop() {
        lock.lock()
        cancelled = true
        lock.unlock()
    }

    func perform(_ intent: WorkbenchIntent, inbox: EventInbox) {
        switch intent {
        case .startTraining(let request): begin(request, inbox: inbox)
        case .resumeTraining:
            lock.lock()
            let last = lastRequest, folder = lastAdapterFolder
            lock.unlock()
            guard var request = last, let folder else { return }
            request.values["resume_adapter_file"] = folder.appendingPathComponent("adapters.safetensors").path
            begin(request, inbox: inbox)
        case .stopTraining:
            lock.lock()
            cancelled = true
            lock.unlock()
            inbox.post { wb in wb.train.model.status = "stopping after this iteration…" }
        default: break
        }
    }

    /// The configuration a request describes: defaults, then the YAML file, then the form.
    static func config(for request: TrainRunRequest) throws -> TrainingConfig {
        var config = try request.configPath.map { try TrainingConfig(yamlFile: URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath)) } ?? TrainingConfig()
        for (key, value) in request.values.sorted(by: { $0.key < $1.key }) {
            if key == "lora_rank" {
                guard let rank = Int(value), rank > 0 else { throw ValidationErrorText("LoRA rank: '\(value)' is not a whole number > 0") }
                config.loraParameters.rank = rank
            } else {
                let v = ["model", "data", "adapter_path", "resume_adapter_file"].contains(key) ? (value as NSString).expandingTildeInPath : value
                try config.set(key, to: .scalar(v, place: "form field \(key)"))
            }
        }
        try config.set("train", to: .scalar("true", place: "Train panel"))
        try config.validate()
        return config
    }

    private func begin(_ request: TrainRunRequest, inbox: EventInbox) {
        lock.lock()
        guard !running else { lock.unlock(); return }
        running = true
        cancelled = false
        lastRequest = request
        lock.unlock()
        inbox.post { wb in
            var m = TrainViewModel(runName: "preparing…")
            m.isLocalRun = true
            m.isRunning = true
            m.lastRequest = request
            m.availableModels = wb.train.model.availableModels
            m.status = "checking the config and data…"
            wb.train.model = m
            wb.train.selectedCheckpoint = nil
        }
        queue.async { [self] in
            do {
                try run(request, inbox: inbox)
            } catch {
                let message = "\(error)"
                inbox.post { wb in
                    wb.train.model.isRunning = false
                    wb.train.model.status = "failed: " + message
                }
            }
            lock.lock()
            running = false
            lock.unlock()
        }
    }

    /// The run itself, on `queue` (the steps of `lem train`).
    private func run(_ request: TrainRunRequest, inbox: EventInbox) throws {
        let config = try Self.config(for: request)
        guard let modelPath = config.model else { throw ValidationErrorText("no model: pick one in the form or give model: in the YAML") }
        guard let dataPath = config.data else { throw ValidationErrorText("no data folder: give one in the form or data: in the YAML") }
        let folder = try DatasetFolder(folder: URL(fileURLWithPath: dataPath))
        try folder.validate(training: true, testing: false, batchSize: config.batchSize)
        let adapterFolder = URL(fileURLWithPath: config.adapterPath, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL
        let runName = adapterFolder.lastPathComponent
        let probe = try CheckpointProbe.make(config: config, model: URL(fileURLWithPath: modelPath), outputFolder: adapterFolder)
        inbox.post { wb in
            wb.train.model.runName = runName
            wb.train.model.baseModelPath = modelPath
            wb.train.model.totalSteps = config.iters
            wb.train.model.adapterFolder = adapterFolder.path
            wb.train.model.status = "loading \(URL(fileURLWithPath: modelPath).lastPathComponent) and tokenizing…"
        }
        let modelURL = URL(fileURLWithPath: modelPath)
        let files = try ModelFiles.open(modelURL)
        let renderer = try TemplateRenderer(model: modelURL)
        let trainSet = try folder.train?.tokenize(with: renderer, maskPrompt: config.maskPrompt) ?? []
        let validSet = try folder.valid?.tokenize(with: renderer, maskPrompt: config.maskPrompt) ?? []
        // The fast QLoRA model (base weights stay in their stored encoding), as `lem train` uses.
        var transformer = try LoRATransformer(
            config: files.config, tensors: files.tensors, source: files.source, options: EngineDefaults.options)
        transformer.gradientCheckpointing = config.gradCheckpoint
        var adapter: LoRAAdapter
        if let resume = config.resumeAdapterFile {
            adapter = try LoRAAdapter(weightsFile: URL(fileURLWithPath: resume), parameters: config.loraParameters, numLayers: config.numLayers)
        } else {
            var random = NumpyRandomState(seed: UInt32(truncatingIfNeeded: config.seed))
            adapter = try transformer.makeAdapter(parameters: config.loraParameters, numLayers: config.numLayers, using: &random)
        }
        lock.lock()
        lastAdapterFolder = adapterFolder
        lock.unlock()
        let long = trainSet.filter { $0.tokens.count > config.maxSeqLength }.count
        let note = long > 0 ? " (\(long) examples truncated to \(config.maxSeqLength) tokens)" : ""
        let prompts = probe?.answers.prompts.count ?? 0
        inbox.post { wb in
            wb.train.model.status = prompts > 0 ? "probing the starting weights with \(prompts) prompts…"
                : "training on \(trainSet.count) examples, \(validSet.count) validation\(note)…"
        }
        let training = try LoRATraining(config: config, options: LoRATraining.Options(outputFolder: adapterFolder, probe: probe))
        let start = Date()
        var saves = 0
        _ = try training.run(
            model: transformer, adapter: adapter, train: trainSet, valid: validSet,
            isCancelled: { [self] in
                lock.lock()
                defer { lock.unlock() }
                return cancelled
            },
            onEvent: { event in
                if case .saved = event { saves += 1 }
                let probing = probe.map { saves > 0 && saves % $0.every == 0 } ?? false
                let elapsed = Date().timeIntervalSince(start)
                let (records, _) = TrainLogParser.parse([event.jsonLine], source: "trainer")
                inbox.post { wb in
                    if case .trainReport(let r) = event {
                        wb.train.model.elapsed = elapsed
                        wb.train.model.elapsedStep = r.step
                        wb.train.model.status = nil
                    }
                    wb.train.model.apply(records)
                    switch event {
                    case .saved(let step, _):
                        if probing, let probe {
                            wb.train.model.status = "probing the checkpoint at iteration \(step) (\(probe.answers.prompts.count) prompts)…"
                        }
                    case .probe(let p): wb.train.model.status = p.error.map { "probe at iteration \(p.step): \($0)" }
                    case .finished(let step, let path):
                        if !wb.train.model.checkpointPaths.contains(path) {
                            wb.train.model.checkpoints.append(LossPoint(step: step, value: 0))
                            wb.train.model.checkpointPaths.append(path)
                        }
                        wb.train.model.isRunning = false
                        wb.train.model.status = "finished: adapter in \(path)"
                    case .failed(let step, let message):
                        // A stopped run saved its adapter: offer it to "chat with checkpoint".
                        if message == "cancelled", !wb.train.model.checkpointPaths.contains(adapterFolder.path) {
                            wb.train.model.checkpoints.append(LossPoint(step: step, value: 0))
                            wb.train.model.checkpointPaths.append(adapterFolder.path)
                        }
                        wb.train.model.isRunning = false
                        wb.train.model.status = "stopped at iteration \(step): \(message); r resumes"
                    default: break
                    }
                }
            })
    }
}
