import Foundation

/// The options of a LoRA training run, with mlx_lm's names, defaults and precedence: built-in
/// defaults (mlx_lm `lora.py` CONFIG_DEFAULTS), then a YAML config file (`-c config.yaml`), then
/// command-line flags.
///
/// Every key is set through `set(_:to:)`, which both the YAML reader and the command-line
/// front end use, so a flag `--batch-size 2` and a YAML line `batch_size: 2` are validated by
/// the same code. Unknown keys are an error naming the key and where it was written.
public struct TrainingConfig: Sendable, Equatable {
    /// The optimizers mlx_lm offers; `muon` and `adafactor` are recognised but not implemented.
    public enum OptimizerName: String, Sendable, CaseIterable {
        case adam, adamw, sgd, muon, adafactor
    }

    /// mlx_lm's `lora_parameters`.
    public struct LoRAParameters: Sendable, Equatable {
        public var rank = 8
        /// The multiplier of the low-rank path (mlx_lm's `scale`, not PEFT's `alpha`).
        public var scale = 20.0
        public var dropout = 0.0
        /// Module paths inside a block to adapt (`self_attn.q_proj`, ...); nil means every
        /// linear layer of the block, mlx_lm's default.
        public var keys: [String]?
    }

    /// mlx_lm's `lr_schedule` block.
    public struct ScheduleConfig: Sendable, Equatable {
        public var name: String
        public var arguments: [Double]
        public var warmup: Int
        public var warmupInit: Double
    }

    /// The hyper-parameters of one optimizer (`optimizer_config: {adamw: {...}}`).
    public struct OptimizerOptions: Sendable, Equatable {
        public var betas: [Double] = [0.9, 0.999]
        public var eps = 1e-8
        public var weightDecay: Double?
        public var biasCorrection = false
        public var momentum = 0.0
        public var dampening = 0.0
        public var nesterov = false
    }

    public var model: String?
    public var data: String?
    public var train = false
    public var test = false
    public var fineTuneType = "lora"
    public var optimizer = OptimizerName.adam
    /// Per-optimizer settings; only the selected optimizer's entry is used.
    public var optimizerConfig: [OptimizerName: OptimizerOptions] = [:]
    public var seed = 0
    /// Blocks to adapt, counted from the last; -1 means all.
    public var numLayers = 16
    public var batchSize = 4
    public var iters = 1000
    /// Validation batches per evaluation; -1 means the whole validation set.
    public var valBatches = 25
    public var learningRate = 1e-5
    public var stepsPerReport = 10
    public var stepsPerEval = 200
    public var resumeAdapterFile: String?
    public var adapterPath = "adapters"
    public var saveEvery = 100
    public var testBatches = 500
    public var maxSeqLength = 2048
    public var gradCheckpoint = false
    public var gradAccumulationSteps = 1
    public var lrSchedule: ScheduleConfig?
    public var loraParameters = LoRAParameters()
    public var maskPrompt = false
    /// Probe every this many saves (0: no probes); not an mlx_lm key.
    public var probeEvery = 0
    /// A prompts file for probes (seeds JSON array, JSONL with `prompt`, or one prompt per
    /// line); nil: `probeSeeds` prompts from the seeds folder.
    public var probePrompts: String?
    /// Seed prompts to probe with when no prompts file is given (spread across domains).
    public var probeSeeds = 5
    /// New tokens per probe answer (greedy).
    public var probeMaxTokens = 96
    /// Stop when this many validations in a row do not beat the best validation loss (0: never);
    /// not an mlx_lm key.
    public var earlyStoppingPatience = 0
    /// Accepted mlx_lm keys that have no effect here (reporting services, allocator tuning).
    public private(set) var ignoredKeys: [String] = []
    /// The keys given so far (by a YAML file or `set`), for callers that lay defaults of their
    /// own under what the user wrote.
    public private(set) var givenKeys: Set<String> = []

    /// The keys mlx_lm accepts that this trainer reads but does not act on.
    static let ignorable: Set<String> = [
        "report_to", "project_name", "trust_remote_code", "clear_cache_threshold", "config"
    ]

    /// Creates the mlx_lm defaults.
    public init() {}

    /// Reads a YAML config file over the defaults. Relative paths in it (`model`, `data`,
    /// `adapter_path`, `resume_adapter_file`, `probe_prompts`) are taken relative to the file's
    /// folder, so a config means the same from any working folder; `~` is left for the reader.
    public init(yamlFile url: URL) throws {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw TrainingConfigError.unreadable(file: url.path, reason: "cannot read: \(error.localizedDescription)")
        }
        try self.init(yaml: text, file: url.path)
        resolvePaths(against: url.deletingLastPathComponent())
    }

    /// Makes the relative paths given (`model`, `data`, `adapter_path` when set, `resume_adapter_file`,
    /// `probe_prompts`) relative to `folder`, a config file's folder; absolute and `~` paths stay.
    mutating func resolvePaths(against folder: URL) {
        func resolve(_ path: String?) -> String? {
            guard let path, !path.hasPrefix("/"), !path.hasPrefix("~") else { return path }
            return folder.appendingPathComponent(path).standardizedFileURL.path
        }
        model = resolve(model)
        data = resolve(data)
        if givenKeys.contains("adapter_path") { adapterPath = resolve(adapterPath) ?? adapterPath }
        resumeAdapterFile = resolve(resumeAdapterFile)
        probePrompts = resolve(probePrompts)
    }

    /// Reads YAML text over the defaults; `file` names it in error messages.
    public init(yaml: String, file: String = "config.yaml") throws {
        self.init()
        for (key, value) in try ConfigValue.parseYAML(yaml, file: file) {
            try set(key, to: value)
        }
    }

    /// Sets one option by its mlx_lm key (`batch_size`, `lora_parameters`, ...).
    ///
    /// A null value leaves the current setting (mlx_lm treats None as "not given"), except for
    /// the optional paths and `lr_schedule`, which it clears.
    public mutating func set(_ key: String, to value: ConfigValue) throws {
        defer { givenKeys.insert(key) }
        if value.isNull {
            switch key {
            case "resume_adapter_file": resumeAdapterFile = nil
            case "lr_schedule": lrSchedule = nil
            case "model": model = nil
            case "data": data = nil
            case "probe_prompts": probePrompts = nil
            default:
                guard Self.knownKeys.contains(key) || Self.ignorable.contains(key) else {
                    throw TrainingConfigError.unknownKey(key: key, place: value.place)
                }
            }
            return
        }
        switch key {
        case "model": model = try value.string(key)
        case "data": data = try value.string(key)
        case "train": train = try value.bool(key)
        case "test": test = try value.bool(key)
        case "fine_tune_type":
            fineTuneType = try value.string(key)
            guard fineTuneType == "lora" || fineTuneType == "dora" else {
                throw TrainingConfigError.unsupported(
                    key: key, reason: "expected 'lora' or 'dora', got '\(fineTuneType)'")
            }
        case "optimizer":
            let name = try value.string(key).lowercased()
            guard let parsed = OptimizerName(rawValue: name) else {
                throw TrainingConfigError.invalid(
                    key: key, reason: "expected adam, adamw, sgd, muon or adafactor at \(value.place), got '\(name)'")
            }
            optimizer = parsed
        case "optimizer_config": try setOptimizerConfig(value)
        case "seed": seed = try value.int(key)
        case "num_layers": numLayers = try value.int(key)
        case "batch_size": batchSize = try value.int(key)
        case "iters": iters = try value.int(key)
        case "val_batches": valBatches = try value.int(key)
        case "learning_rate": learningRate = try value.double(key)
        case "steps_per_report": stepsPerReport = try value.int(key)
        case "steps_per_eval": stepsPerEval = try value.int(key)
        case "resume_adapter_file": resumeAdapterFile = try value.string(key)
        case "adapter_path": adapterPath = try value.string(key)
        case "save_every": saveEvery = try value.int(key)
        case "test_batches": testBatches = try value.int(key)
        case "max_seq_length": maxSeqLength = try value.int(key)
        case "grad_checkpoint": gradCheckpoint = try value.bool(key)
        case "grad_accumulation_steps": gradAccumulationSteps = try value.int(key)
        case "lr_schedule": try setSchedule(value)
        case "lora_parameters": try setLoRA(value)
        case "mask_prompt": maskPrompt = try value.bool(key)
        case "probe_every": probeEvery = try value.int(key)
        case "probe_prompts": probePrompts = try value.string(key)
        case "probe_seeds": probeSeeds = try value.int(key)
        case "probe_max_tokens": probeMaxTokens = try value.int(key)
        case "early_stopping_patience": earlyStoppingPatience = try value.int(key)
        case "hf_dataset":
            throw TrainingConfigError.unsupported(
                key: key, reason: "datasets are read from a local folder (data: path)")
        default:
            guard Self.ignorable.contains(key) else {
                throw TrainingConfigError.unknownKey(key: key, place: value.place)
            }
            if !ignoredKeys.contains(key) { ignoredKeys.append(key) }
        }
    }

    static let knownKeys: Set<String> = [
        "model", "data", "train", "test", "fine_tune_type", "optimizer", "optimizer_config", "seed", "num_layers",
        "batch_size", "iters", "val_batches", "learning_rate", "steps_per_report", "steps_per_eval",
        "resume_adapter_file", "adapter_path", "save_every", "test_batches", "max_seq_length", "grad_checkpoint",
        "grad_accumulation_steps", "lr_schedule", "lora_parameters", "mask_prompt", "hf_dataset"
    ]

    private mutating func setLoRA(_ value: ConfigValue) throws {
        var lora = LoRAParameters()
        let pairs = try value.map("lora_parameters")
        for (key, item) in pairs {
            let path = "lora_parameters.\(key)"
            switch key {
            case "rank": lora.rank = try item.int(path)
            case "scale": lora.scale = try item.double(path)
            case "dropout": lora.dropout = try item.double(path)
            case "keys": lora.keys = item.isNull ? nil : try item.list(path).map { try $0.string(path) }
            case "alpha":
                throw TrainingConfigError.invalid(
                    key: path,
                    reason: "mlx_lm's LoRA config uses 'scale' (the multiplier of the low-rank path), not 'alpha'")
            default: throw TrainingConfigError.unknownKey(key: path, place: item.place)
            }
        }
        loraParameters = lora
    }

    private mutating func setSchedule(_ value: ConfigValue) throws {
        var name: String?
        var arguments: [Double]?
        var warmup = 0
        var warmupInit = 0.0
        for (key, item) in try value.map("lr_schedule") {
            let path = "lr_schedule.\(key)"
            switch key {
            case "name": name = try item.string(path)
            case "arguments": arguments = try item.list(path).map { try $0.double(path) }
            case "warmup": warmup = try item.int(path)
            case "warmup_init": warmupInit = try item.double(path)
            default: throw TrainingConfigError.unknownKey(key: path, place: item.place)
            }
        }
        guard let name else {
            throw TrainingConfigError.invalid(key: "lr_schedule.name", reason: "missing at \(value.place)")
        }
        guard let arguments, !arguments.isEmpty else {
            throw TrainingConfigError.invalid(key: "lr_schedule.arguments", reason: "missing at \(value.place)")
        }
        let schedule = ScheduleConfig(name: name, arguments: arguments, warmup: warmup, warmupInit: warmupInit)
        _ = try LearningRateSchedule.mlxLM(name: name, arguments: arguments, warmup: warmup, warmupInit: warmupInit)
        lrSchedule = schedule
    }

    private mutating func setOptimizerConfig(_ value: ConfigValue) throws {
        var result: [OptimizerName: OptimizerOptions] = [:]
        for (name, settings) in try value.map("optimizer_config") {
            guard let optimizer = OptimizerName(rawValue: name) else {
                throw TrainingConfigError.unknownKey(key: "optimizer_config.\(name)", place: settings.place)
            }
            var options = OptimizerOptions()
            if !settings.isNull {
                for (key, item) in try settings.map("optimizer_config.\(name)") {
                    let path = "optimizer_config.\(name).\(key)"
                    switch (optimizer, key) {
                    case (.adam, "betas"), (.adamw, "betas"):
                        options.betas = try item.list(path).map { try $0.double(path) }
                        guard options.betas.count == 2, options.betas.allSatisfy({ (0..<1).contains($0) }) else {
                            throw TrainingConfigError.invalid(key: path, reason: "expected two values in [0, 1)")
                        }
                    case (.adam, "eps"), (.adamw, "eps"): options.eps = try item.double(path)
                    case (.adam, "bias_correction"), (.adamw, "bias_correction"):
                        options.biasCorrection = try item.bool(path)
                    case (.adamw, "weight_decay"), (.sgd, "weight_decay"): options.weightDecay = try item.double(path)
                    case (.sgd, "momentum"): options.momentum = try item.double(path)
                    case (.sgd, "dampening"): options.dampening = try item.double(path)
                    case (.sgd, "nesterov"): options.nesterov = try item.bool(path)
                    default: throw TrainingConfigError.unknownKey(key: path, place: item.place)
                    }
                }
            }
            result[optimizer] = options
        }
        optimizerConfig = result
    }
}
