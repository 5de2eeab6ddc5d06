import Foundation
import LEMCore
import LEMEngine
import LEMTrainer
import Panels

/// The Train panel's service: LoRA runs in this process, prepared exactly as `lem train`
/// prepares them (`PreparedTrainingRun`), on a background queue; every `TrainingEvent` reaches
/// the panel as it happens (and `<adapter-path>/train-log.jsonl` through the trainer). Stop is
/// cooperative: the trainer checks after each iteration and saves the adapter it has.
public final class TrainService: @unchecked Sendable {
    let context: AppContext
    let inbox: any WorkbenchInbox
    private let queue = DispatchQueue(label: "lem.train", qos: .userInitiated)
    private let lock = NSLock()
    // Guarded by `lock`.
    private var cancelled = false
    private var running = false
    private var lastRequest: TrainRunRequest?
    private var lastAdapterFolder: URL?

    /// A service posting to `inbox`.
    public init(context: AppContext, inbox: any WorkbenchInbox) {
        self.context = context
        self.inbox = inbox
    }

    /// Tells the form where new runs' adapters go by default.
    public func start() {
        let root = context.paths.adapters.path
        inbox.post { wb in wb.train.model.setAdapterRoot(root) }
    }

    /// Asks a running run to stop (before the program exits).
    public func stop() { lock.withLock { cancelled = true } }

    /// Whether a run is in progress.
    public var isRunning: Bool { lock.withLock { running } }

    /// Handles one training intent.
    public func handle(_ intent: TrainIntent) {
        switch intent {
        case .start(let request):
            begin(request, resuming: false)
        case .readConfig(let path):
            readConfig(path)
        case .resume:
            let (last, folder) = lock.withLock { (lastRequest, lastAdapterFolder) }
            guard var request = last, let folder else {
                inbox.post { wb in wb.showNotice("nothing to resume: start a run first (n)") }
                return
            }
            // The same folder: its log goes on and the iteration count continues from the adapter's.
            request.values["resume_adapter_file"] = folder.appendingPathComponent(LoRAAdapter.weightsFile).path
            request.values["adapter_path"] = folder.path
            begin(request, resuming: true)
        case .stop:
            lock.withLock { cancelled = true }
            inbox.post { wb in wb.train.model.setStatus("stopping after this iteration…") }
        }
    }

    /// The form keys that hold paths (resolved against the working folder when typed).
    static let pathKeys: Set<String> = ["model", "data", "adapter_path", "resume_adapter_file"]

    /// The configuration a request describes: mlx_lm's defaults, the form's untouched defaults
    /// where the YAML file says nothing, the YAML file (its relative paths against its own
    /// folder, as `lem train -c` reads it), then the rows the user typed. A default adapter folder
    /// that already holds a run gets a numbered name instead, so no run is overwritten.
    static func config(for request: TrainRunRequest, paths: LEMPaths) throws -> TrainingConfig {
        var config = try request.configPath.map { try TrainingConfig(yamlFile: paths.resolve($0)) } ?? TrainingConfig()
        let fromFile = config.givenKeys
        func set(_ key: String, _ value: String) throws {
            if key == "lora_rank" {
                guard let rank = Int(value), rank > 0 else {
                    throw AppError("LoRA rank: '\(value)' is not a whole number > 0")
                }
                config.loraParameters.rank = rank
            } else {
                let v = pathKeys.contains(key) ? paths.resolve(value).path : value
                try config.set(key, to: .scalar(v, place: "form field \(key)"))
            }
        }
        let defaults = request.defaults.filter { key, _ in
            request.values[key] == nil && !fromFile.contains(key == "lora_rank" ? "lora_parameters" : key)
        }
        for (key, value) in defaults.sorted(by: { $0.key < $1.key }) { try set(key, value) }
        for (key, value) in request.values.sorted(by: { $0.key < $1.key }) { try set(key, value) }
        if defaults["adapter_path"] != nil { config.adapterPath = freeFolder(config.adapterPath) }
        try config.set("train", to: .scalar("true", place: "Train panel"))
        try config.validate()
        return config
    }

    /// `path`, or `path-2`, `path-3`… when it already holds a run's log.
    static func freeFolder(_ path: String) -> String {
        func used(_ p: String) -> Bool { FileManager.default.fileExists(atPath: p + "/train-log.jsonl") }
        guard used(path) else { return path }
        var n = 2
        while used("\(path)-\(n)") { n += 1 }
        return "\(path)-\(n)"
    }

    /// Reads a YAML config for the form and shows its values there (paths as the run will use
    /// them), or why it cannot be used.
    func readConfig(_ path: String) {
        let paths = context.paths
        // Not on the run's queue: the file is read while no run holds it.
        DispatchQueue.global(qos: .userInitiated).async { [inbox] in
            var values: [String: String] = [:]
            var problem: String?
            do {
                let config = try TrainingConfig(yamlFile: paths.resolve(path))
                try config.validate()
                let keys = config.givenKeys
                func show(_ key: String, _ value: CustomStringConvertible?) {
                    if keys.contains(key), let value { values[key] = value.description }
                }
                show("model", config.model)
                show("data", config.data)
                show("iters", config.iters)
                show("learning_rate", config.learningRate)
                if keys.contains("lora_parameters") { values["lora_rank"] = "\(config.loraParameters.rank)" }
                show("num_layers", config.numLayers)
                show("batch_size", config.batchSize)
                show("max_seq_length", config.maxSeqLength)
                show("steps_per_report", config.stepsPerReport)
                show("steps_per_eval", config.stepsPerEval)
                show("save_every", config.saveEvery)
                show("adapter_path", config.adapterPath)
            } catch {
                problem = "\(error)"
            }
            let (shown, why) = (values, problem)
            inbox.post { wb in wb.train.showConfig(path: path, values: shown, problem: why) }
        }
    }

    private func begin(_ request: TrainRunRequest, resuming: Bool) {
        let started = lock.withLock {
            guard !running else { return false }
            running = true
            cancelled = false
            lastRequest = request
            return true
        }
        guard started else {
            inbox.post { wb in wb.showNotice("a run is in progress: stop it first (x)") }
            return
        }
        let root = context.paths.adapters.path
        inbox.post { wb in
            if resuming {
                // The run's curves stay; the resumed iterations extend them.
                wb.train.model.resume(request)
            } else {
                wb.train.model = TrainViewModel.localRun(request, availableModels: wb.train.model.availableModels)
                wb.train.model.setAdapterRoot(root)
                wb.train.selectedCheckpoint = nil
            }
        }
        queue.async { [self] in
            do {
                try run(request)
            } catch {
                let message = "failed: \(error)"
                inbox.post { wb in wb.train.model.end(status: message) }
            }
            lock.withLock { running = false }
        }
    }

    /// The run itself, on `queue`.
    private func run(_ request: TrainRunRequest) throws {
        var resolved = try Self.config(for: request, paths: context.paths)
        resolved.model = resolved.model.map(context.cachedModelPath)  // model: ORG/NAME, as mlx_lm takes it
        let config = resolved
        let seeds = context.paths.seedsDirectory
        let inbox = self.inbox
        let context = self.context
        let prepared = try PreparedTrainingRun.prepare(
            config: config, engineOptions: context.engineOptions,
            makeProbe: { model, folder in
                try CheckpointProbe.make(
                    config: config, model: model, outputFolder: folder, seedsDirectory: seeds,
                    load: { try context.load($0) })
            },
            stage: { stage in
                let line: String
                switch stage {
                case .checkingData: line = "checking the data…"
                case .loadingModel(let name): line = "loading \(name) and tokenizing…"
                case .tokenized(let train, let valid, let long):
                    let note = long > 0 ? " (\(long) examples truncated to \(config.maxSeqLength) tokens)" : ""
                    line = "training on \(train) examples, \(valid) validation\(note)…"
                }
                inbox.post { wb in wb.train.model.setStatus(line) }
            })
        let folder = prepared.adapterFolder
        lock.withLock { lastAdapterFolder = folder }
        let runName = folder.lastPathComponent
        let modelPath = prepared.modelURL.path
        let prompts = (prepared.training.options.probe as? CheckpointProbe)?.answers.prompts.count ?? 0
        inbox.post { wb in
            wb.train.model.describeRun(
                name: runName, baseModel: modelPath, totalSteps: config.iters, adapterFolder: folder.path)
            if prompts > 0 { wb.train.model.setStatus("probing the starting weights with \(prompts) prompts…") }
        }
        var saves = 0
        let probeEvery = prepared.training.options.probe?.every
        _ = try prepared.train(
            isCancelled: { [self] in lock.withLock { cancelled } },
            onEvent: { event in
                if case .saved = event { saves += 1 }
                let probing = probeEvery.map { saves > 0 && saves % $0 == 0 } ?? false
                inbox.post { wb in
                    wb.train.model.apply([event])
                    switch event {
                    case .trainReport: wb.train.model.setStatus(nil)
                    case .saved(let step, _):
                        if probing {
                            wb.train.model.setStatus(
                                "probing the checkpoint at iteration \(step) (\(prompts) prompts)…")
                        }
                    case .probe(let p): wb.train.model.setStatus(p.error.map { "probe at iteration \(p.step): \($0)" })
                    case .finished(let step, let path):
                        wb.train.model.addCheckpoint(step: step, path: path)
                        wb.train.model.end(status: "finished: adapter in \(path)")
                    case .failed(let step, let message):
                        // A stopped run saved its adapter: offer it to "chat with checkpoint".
                        if message == TrainingEvent.cancelledMessage {
                            wb.train.model.addCheckpoint(step: step, path: folder.path)
                        }
                        wb.train.model.end(status: "stopped at iteration \(step): \(message); r resumes")
                    default: break
                    }
                }
            })
    }
}
