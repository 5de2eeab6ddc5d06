import Foundation
import LEMCore

extension TrainingExport {
    /// The linear layers of a block mlx_lm adapts when `lora_parameters.keys` is not given.
    static let defaultLoRAKeys = [
        "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj",
        "mlp.up_proj", "mlp.down_proj"
    ]

    /// TRL's `trl sft --config` YAML (ScriptArguments, SFTConfig and ModelConfig keys) and what the
    /// run there does differently from `lem train`.
    func trlConfig(model: String, data: String, output: String) -> (yaml: String, notes: [String]) {
        let c = config
        var notes = lemOnlyNotes
        let lora = c.loraParameters
        let alpha = Double(lora.rank) * lora.scale
        let roundedAlpha = Int(alpha.rounded())
        if Double(roundedAlpha) != alpha {
            notes.append(
                "lora_alpha = rank × scale = \(alpha) is rounded to \(roundedAlpha) (TRL takes an integer alpha)")
        }
        let (targets, targetNote) = trlTargetModules()
        if let targetNote { notes.append(targetNote) }
        let updates = (c.iters + c.gradAccumulationSteps - 1) / c.gradAccumulationSteps
        let hasValidation = (self.data.valid?.count ?? 0) > 0
        let promptCompletion = trlUsesPromptCompletion
        var entries: [YAMLText.Entry] = [
            .init("model_name_or_path", .string(model)),
            .init(
                "dataset_name", .string(data),
                comment: "a local folder: datasets reads train.jsonl, valid.jsonl (split 'validation'), test.jsonl"),
            .init("dataset_train_split", .string("train"))
        ]
        if hasValidation { entries.append(.init("dataset_test_split", .string("validation"))) }
        entries += [
            .init("output_dir", .string(output), comment: "the PEFT adapter (adapter_model.safetensors) lands here"),
            .init("max_steps", .int(updates), comment: "mlx_lm's iters ÷ grad_accumulation_steps optimizer updates"),
            .init("per_device_train_batch_size", .int(c.batchSize)),
            .init("gradient_accumulation_steps", .int(c.gradAccumulationSteps)),
            .init("max_length", .int(c.maxSeqLength), comment: "mlx_lm's max_seq_length (TRL < 0.20: max_seq_length)"),
            .init("packing", .bool(false)),
            .init("seed", .int(c.seed)),
            .init("gradient_checkpointing", .bool(c.gradCheckpoint)),
            .init("logging_steps", .int(c.stepsPerReport)),
            .init("save_strategy", .string("steps")),
            .init("save_steps", .int(c.saveEvery))
        ]
        if hasValidation {
            entries += [
                .init("eval_strategy", .string("steps")), .init("eval_steps", .int(c.stepsPerEval)),
                .init("eval_on_start", .bool(true)), .init("per_device_eval_batch_size", .int(c.batchSize))
            ]
        } else {
            entries.append(.init("eval_strategy", .string("no")))
        }
        if promptCompletion {
            entries.append(
                .init(
                    "completion_only_loss", .bool(c.maskPrompt),
                    comment: "mask_prompt: the loss covers the completion (the last assistant turn) only"))
        }
        entries += trlOptimizerEntries(notes: &notes)
        entries += [
            .init("max_grad_norm", .double(maxGradNorm ?? 0), comment: "0: no clipping, as mlx_lm"),
            .init("report_to", .string("none")),
            .init("use_peft", .bool(true)),
            .init("lora_r", .int(lora.rank)),
            .init(
                "lora_alpha", .int(roundedAlpha),
                comment: "PEFT scales the low-rank path by lora_alpha / r; mlx_lm's scale \(lora.scale) "
                    + "= alpha / rank, so alpha = rank × scale = \(lora.rank) × \(lora.scale)"),
            .init("lora_dropout", .double(lora.dropout)),
            .init(
                "lora_target_modules", .array(targets.map { .string($0) }),
                comment:
                    "mlx_lm's lora_parameters.keys (\(lora.keys == nil ? "default: every linear layer" : "given")) "
                    + "and num_layers \(c.numLayers)"),
            .init("use_dora", .bool(c.fineTuneType == "dora"))
        ]
        if c.resumeAdapterFile != nil {
            notes.append("resume_adapter_file is an mlx_lm adapter; TRL cannot start from it, so it is not exported")
        }
        notes.append(
            "val_batches has no TRL equivalent: each evaluation covers the whole validation split")
        notes.append(
            "per_device_train_batch_size is per GPU: on N GPUs a step sees N × \(c.batchSize) × "
                + "\(c.gradAccumulationSteps) examples")
        let header =
            "TRL SFT + PEFT LoRA config written by `lem train --export trl`.\nRun: trl sft --config config.yaml"
        return (YAMLText.document(entries, header: header), notes)
    }

    /// Whether the data goes to TRL as prompt-completion records: mlx_lm's `prompt`/`completion`
    /// (chat turns, as mlx_lm renders them), and chat records under `mask_prompt` (the last turn
    /// becomes the completion, the one turn mlx_lm trains on then).
    var trlUsesPromptCompletion: Bool {
        switch data.train?.format {
        case .completion?: true
        case .chat?: config.maskPrompt
        case .text?, nil: false
        }
    }

    /// PEFT's `target_modules` for the adapted layers: the short names (`q_proj`) when every
    /// block is adapted, else one regular expression over the full module names of the adapted
    /// blocks (TRL hands a one-entry list to PEFT as a string, which PEFT full-matches as a
    /// regular expression). A note when the model's block count is unknown.
    func trlTargetModules() -> (modules: [String], note: String?) {
        let keys = config.loraParameters.keys ?? Self.defaultLoRAKeys
        var layers: Range<Int>?
        var note: String?
        if let count = model.layerCount {
            let adapted = (try? config.adaptedLayers(layerCount: count)) ?? 0..<count
            layers = adapted.count == count ? nil : adapted
        } else if config.numLayers >= 0 {
            note =
                "the model's block count is unknown here, so every block is adapted; mlx_lm adapts the last "
                + "\(config.numLayers) (set lora_target_modules to a regular expression naming those blocks)"
        }
        let short = Self.uniqueShortNames(keys)
        guard let layers else {
            // A one-entry list would become a regular expression: spell it as one.
            return short.count == 1 ? ([".*\\." + Self.regexEscaped(short[0])], note) : (short, note)
        }
        let blocks = layers.map(String.init).joined(separator: "|")
        let modules = keys.map(Self.regexEscaped).joined(separator: "|")
        return ([".*\\.layers\\.(\(blocks))\\.(\(modules))"], note)
    }

    /// The last path component of each mlx_lm key (`self_attn.q_proj` → `q_proj`), in order, once.
    static func uniqueShortNames(_ keys: [String]) -> [String] {
        var seen: Set<String> = []
        return keys.compactMap { key in
            let name = String(key.split(separator: ".").last ?? Substring(key))
            return seen.insert(name).inserted ? name : nil
        }
    }

    /// `text` with the regular-expression metacharacters it may hold (`.`) escaped.
    static func regexEscaped(_ text: String) -> String {
        var out = ""
        for ch in text {
            if "\\^$.|?*+()[]{}".contains(ch) { out.append("\\") }
            out.append(ch)
        }
        return out
    }

    /// Learning rate, schedule and optimizer under transformers' TrainingArguments names.
    private func trlOptimizerEntries(notes: inout [String]) -> [YAMLText.Entry] {
        let c = config
        var entries: [YAMLText.Entry] = []
        var schedulerType = "constant"
        var warmup = 0
        var learningRate = c.learningRate
        if let s = c.lrSchedule {
            learningRate = s.arguments[0]
            warmup = s.warmup
            switch s.name {
            case "cosine_decay":
                let end = s.arguments.count > 2 ? s.arguments[2] : 0
                schedulerType = end > 0 ? "cosine_with_min_lr" : "cosine"
                if end > 0 { entries.append(.init("lr_scheduler_kwargs", .object(["min_lr": .double(end)]))) }
                notes.append("cosine_decay becomes transformers' \(schedulerType), which decays over max_steps")
            case "linear_schedule":
                schedulerType = "linear"
                notes.append("linear_schedule becomes transformers' linear schedule, which decays to 0 over max_steps")
            default:
                notes.append("lr_schedule '\(s.name)' has no transformers equivalent; a constant rate is exported")
            }
            if warmup > 0 && s.warmupInit != 0 {
                notes.append("warmup starts at 0 in transformers, not at warmup_init \(s.warmupInit)")
            }
        }
        if warmup > 0 && schedulerType == "constant" { schedulerType = "constant_with_warmup" }
        entries.insert(.init("learning_rate", .double(learningRate)), at: 0)
        entries.insert(.init("lr_scheduler_type", .string(schedulerType)), at: 1)
        entries.append(.init("warmup_steps", .int(warmup)))
        let options = c.optimizerConfig[c.optimizer] ?? TrainingConfig.OptimizerOptions()
        switch c.optimizer {
        case .adam, .adamw:
            entries += [
                .init("optim", .string("adamw_torch")),
                .init("adam_beta1", .double(options.betas[0])), .init("adam_beta2", .double(options.betas[1])),
                .init("adam_epsilon", .double(options.eps)),
                .init("weight_decay", .double(c.optimizer == .adam ? 0 : options.weightDecay ?? 0.01))
            ]
            if !options.biasCorrection {
                notes.append(
                    "mlx's \(c.optimizer.rawValue) has no bias correction by default; PyTorch's AdamW always "
                        + "corrects, so the first steps are smaller there")
            }
        case .sgd:
            entries += [.init("optim", .string("sgd")), .init("weight_decay", .double(options.weightDecay ?? 0))]
            if options.momentum != 0 || options.nesterov {
                notes.append("SGD momentum/nesterov are not exported (transformers' 'sgd' takes neither)")
            }
        case .muon, .adafactor:
            break  // refused by TrainingConfig.validate
        }
        return entries
    }

    /// `launch.sh`: `trl sft` on this machine's GPUs, with the Accelerate form in a comment.
    func trlLaunchScript() -> String {
        """
        #!/bin/sh
        # TRL SFT + PEFT LoRA run written by `lem train --export trl`.
        # One machine:  sh launch.sh          (trl sft starts Accelerate with its default config)
        # N GPUs:       accelerate launch --num_processes N -m trl.scripts.sft --config config.yaml
        set -e
        cd "$(dirname "$0")"
        exec trl sft --config config.yaml "$@"

        """
    }
}
