import Foundation
import LEMCore

extension TrainingExport {
    /// mlx_lm's `config.yaml` (the keys of `mlx_lm lora`'s CONFIG_DEFAULTS) and what the run
    /// there will not do as `lem train` would.
    func mlxLMConfig(model: String, data: String, adapters: String) -> (yaml: String, notes: [String]) {
        let c = config
        var lora: JSONObject = [
            "rank": .int(c.loraParameters.rank), "scale": .double(c.loraParameters.scale),
            "dropout": .double(c.loraParameters.dropout)
        ]
        if let keys = c.loraParameters.keys { lora["keys"] = .array(keys.map { .string($0) }) }
        var entries: [YAMLText.Entry] = [
            .init("model", .string(model)),
            .init("train", .bool(true)),
            .init("data", .string(data), comment: "train.jsonl, valid.jsonl, test.jsonl as lem train read them"),
            .init("fine_tune_type", .string(c.fineTuneType)),
            .init("num_layers", .int(c.numLayers)),
            .init("batch_size", .int(c.batchSize)),
            .init("iters", .int(c.iters)),
            .init("learning_rate", .double(c.learningRate))
        ]
        if let s = c.lrSchedule {
            let schedule: JSONObject = [
                "name": .string(s.name), "arguments": .array(s.arguments.map { .double($0) }),
                "warmup": .int(s.warmup), "warmup_init": .double(s.warmupInit)
            ]
            entries.append(.init("lr_schedule", .object(schedule)))
        }
        entries += [
            .init("optimizer", .string(c.optimizer.rawValue)),
            .init("steps_per_report", .int(c.stepsPerReport)),
            .init("steps_per_eval", .int(c.stepsPerEval)),
            .init("val_batches", .int(c.valBatches)),
            .init("save_every", .int(c.saveEvery)),
            .init("max_seq_length", .int(c.maxSeqLength)),
            .init("grad_checkpoint", .bool(c.gradCheckpoint)),
            .init("grad_accumulation_steps", .int(c.gradAccumulationSteps)),
            .init("seed", .int(c.seed)),
            .init("mask_prompt", .bool(c.maskPrompt)),
            .init("lora_parameters", .object(lora)),
            .init("adapter_path", .string(adapters))
        ]
        if let options = c.optimizerConfig[c.optimizer] {
            entries.append(.init("optimizer_config", .object([c.optimizer.rawValue: .object(optimizerJSON(options))])))
        }
        if let resume = c.resumeAdapterFile {
            entries.append(.init("resume_adapter_file", .string(Self.absolute(resume))))
        }
        if c.test {
            entries.append(.init("test", .bool(true)))
            entries.append(.init("test_batches", .int(c.testBatches)))
        }
        var notes = lemOnlyNotes
        if let maxGradNorm {
            notes.append("mlx_lm does not clip gradients: --max-grad-norm \(maxGradNorm) is not exported")
        }
        notes.append(
            "mlx_lm batches examples in its own order (lem train --mlx-parity reproduces it here); losses "
                + "match lem train's step for step only with --mlx-parity")
        let header = "mlx_lm LoRA config written by `lem train --export mlx_lm`.\nRun: mlx_lm lora -c config.yaml"
        return (YAMLText.document(entries, header: header), notes)
    }

    /// The selected optimizer's settings under mlx's argument names.
    private func optimizerJSON(_ o: TrainingConfig.OptimizerOptions) -> JSONObject {
        switch config.optimizer {
        case .adam:
            return [
                "betas": .array(o.betas.map { .double($0) }), "eps": .double(o.eps),
                "bias_correction": .bool(o.biasCorrection)
            ]
        case .adamw:
            return [
                "betas": .array(o.betas.map { .double($0) }), "eps": .double(o.eps),
                "bias_correction": .bool(o.biasCorrection), "weight_decay": .double(o.weightDecay ?? 0.01)
            ]
        case .sgd:
            return [
                "momentum": .double(o.momentum), "weight_decay": .double(o.weightDecay ?? 0),
                "dampening": .double(o.dampening), "nesterov": .bool(o.nesterov)
            ]
        case .muon, .adafactor:
            return [:]
        }
    }

    /// `launch.sh`: one Mac, with the `mlx.launch` line for several in a comment.
    func mlxLMLaunchScript(folder: URL) -> String {
        """
        #!/bin/sh
        # mlx_lm LoRA run written by `lem train --export mlx_lm`.
        # One Mac:       sh launch.sh
        # Several Macs:  mlx.launch --hosts mac1,mac2 -- mlx_lm lora -c \(folder.path)/config.yaml
        #                (mlx_lm installed and this folder at the same path on every host)
        set -e
        cd "$(dirname "$0")"
        exec mlx_lm lora -c config.yaml "$@"

        """
    }
}
