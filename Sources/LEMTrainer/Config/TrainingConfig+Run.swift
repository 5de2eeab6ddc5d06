import Foundation

extension TrainingConfig {
    /// Checks ranges that individual keys cannot check alone; throws naming the key.
    public func validate() throws {
        func atLeast(_ value: Int, _ minimum: Int, _ key: String) throws {
            guard value >= minimum else {
                throw TrainingConfigError.invalid(key: key, reason: "must be at least \(minimum), got \(value)")
            }
        }
        try atLeast(batchSize, 1, "batch_size")
        try atLeast(iters, 1, "iters")
        try atLeast(stepsPerReport, 1, "steps_per_report")
        try atLeast(stepsPerEval, 1, "steps_per_eval")
        try atLeast(saveEvery, 1, "save_every")
        try atLeast(maxSeqLength, 2, "max_seq_length")
        try atLeast(gradAccumulationSteps, 1, "grad_accumulation_steps")
        try atLeast(valBatches, -1, "val_batches")
        try atLeast(testBatches, -1, "test_batches")
        try atLeast(numLayers, -1, "num_layers")
        try atLeast(loraParameters.rank, 1, "lora_parameters.rank")
        try atLeast(probeEvery, 0, "probe_every")
        try atLeast(probeSeeds, 1, "probe_seeds")
        try atLeast(probeMaxTokens, 1, "probe_max_tokens")
        try atLeast(earlyStoppingPatience, 0, "early_stopping_patience")
        guard (0..<1).contains(loraParameters.dropout) else {
            throw TrainingConfigError.invalid(
                key: "lora_parameters.dropout", reason: "must be in [0, 1), got \(loraParameters.dropout)")
        }
        guard learningRate.isFinite, learningRate >= 0 else {
            throw TrainingConfigError.invalid(key: "learning_rate", reason: "must be a non-negative number")
        }
        if optimizer == .muon || optimizer == .adafactor {
            throw TrainingConfigError.unsupported(
                key: "optimizer", reason: "\(optimizer.rawValue) is not implemented; use adam, adamw or sgd")
        }
    }

    /// The learning-rate schedule: `lr_schedule` when given (its first argument is the initial
    /// rate and `learning_rate` is unused, as in mlx_lm), else the constant `learning_rate`.
    public func makeSchedule() throws -> LearningRateSchedule {
        guard let s = lrSchedule else { return .constant(learningRate) }
        return try LearningRateSchedule.mlxLM(
            name: s.name, arguments: s.arguments, warmup: s.warmup, warmupInit: s.warmupInit)
    }

    /// The configured optimizer with its `optimizer_config` settings and mlx's defaults.
    public func makeOptimizer() throws -> any Optimizer {
        let options = optimizerConfig[optimizer] ?? OptimizerOptions()
        switch optimizer {
        case .adam:
            return Adam(
                beta1: options.betas[0], beta2: options.betas[1], eps: options.eps,
                biasCorrection: options.biasCorrection)
        case .adamw:
            return AdamW(
                beta1: options.betas[0], beta2: options.betas[1], eps: options.eps,
                weightDecay: options.weightDecay ?? 0.01, biasCorrection: options.biasCorrection)
        case .sgd:
            return SGD(
                momentum: options.momentum, weightDecay: options.weightDecay ?? 0, dampening: options.dampening,
                nesterov: options.nesterov)
        case .muon, .adafactor:
            throw TrainingConfigError.unsupported(key: "optimizer", reason: "\(optimizer.rawValue) is not implemented")
        }
    }

    /// The blocks to adapt for a model with `layerCount` blocks: the last `num_layers`
    /// (all for -1), as mlx_lm's `model.layers[-num_layers:]`; throws when more are requested
    /// than the model has.
    public func adaptedLayers(layerCount: Int) throws -> Range<Int> {
        if numLayers > layerCount {
            throw TrainingConfigError.invalid(
                key: "num_layers", reason: "requested \(numLayers) layers but the model has only \(layerCount)")
        }
        let count = numLayers < 0 ? layerCount : numLayers
        return (layerCount - count)..<layerCount
    }

    /// The configuration as mlx_lm writes it into `adapter_config.json` (its `vars(args)`):
    /// every option under its mlx_lm key, so `mlx_lm` can load the adapter.
    public var mlxLMDictionary: [String: Any] {
        var lora: [String: Any] = [
            "rank": loraParameters.rank, "scale": loraParameters.scale, "dropout": loraParameters.dropout
        ]
        if let keys = loraParameters.keys { lora["keys"] = keys }
        var optimizers: [String: Any] = [:]
        for name in OptimizerName.allCases {
            guard let o = optimizerConfig[name] else {
                optimizers[name.rawValue] = [String: Any]()
                continue
            }
            switch name {
            case .adam: optimizers["adam"] = ["betas": o.betas, "eps": o.eps, "bias_correction": o.biasCorrection]
            case .adamw:
                optimizers["adamw"] = [
                    "betas": o.betas, "eps": o.eps, "bias_correction": o.biasCorrection,
                    "weight_decay": o.weightDecay ?? 0.01
                ]
            case .sgd:
                optimizers["sgd"] = [
                    "momentum": o.momentum, "weight_decay": o.weightDecay ?? 0, "dampening": o.dampening,
                    "nesterov": o.nesterov
                ]
            case .muon, .adafactor: optimizers[name.rawValue] = [String: Any]()
            }
        }
        var schedule: Any = NSNull()
        if let s = lrSchedule {
            schedule =
                ["name": s.name, "arguments": s.arguments, "warmup": s.warmup, "warmup_init": s.warmupInit]
                as [String: Any]
        }
        return [
            "model": model ?? NSNull(), "data": data ?? NSNull(), "train": train, "test": test,
            "fine_tune_type": fineTuneType, "optimizer": optimizer.rawValue, "optimizer_config": optimizers,
            "seed": seed, "num_layers": numLayers, "batch_size": batchSize, "iters": iters, "val_batches": valBatches,
            "learning_rate": learningRate, "steps_per_report": stepsPerReport, "steps_per_eval": stepsPerEval,
            "resume_adapter_file": resumeAdapterFile ?? NSNull(), "adapter_path": adapterPath, "save_every": saveEvery,
            "test_batches": testBatches, "max_seq_length": maxSeqLength, "grad_checkpoint": gradCheckpoint,
            "grad_accumulation_steps": gradAccumulationSteps, "lr_schedule": schedule, "lora_parameters": lora,
            "mask_prompt": maskPrompt
        ]
    }
}
