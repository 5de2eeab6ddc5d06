import Foundation
import Testing

@testable import LEMTrainer

/// mlx_lm's YAML config and flag precedence, defaults and errors.
@Suite struct TrainingConfigTests {
    @Test func defaultsAreMLXLMs() {
        let c = TrainingConfig()
        #expect(c.batchSize == 4 && c.iters == 1000 && c.valBatches == 25 && c.learningRate == 1e-5)
        #expect(c.stepsPerReport == 10 && c.stepsPerEval == 200 && c.saveEvery == 100 && c.maxSeqLength == 2048)
        #expect(c.numLayers == 16 && c.testBatches == 500 && c.seed == 0 && c.adapterPath == "adapters")
        #expect(c.loraParameters == .init(rank: 8, scale: 20, dropout: 0, keys: nil))
        #expect(c.optimizer == .adam && c.lrSchedule == nil && !c.maskPrompt && c.gradAccumulationSteps == 1)
    }

    @Test func readsAFullYAMLFile() throws {
        let yaml = """
            model: models/gemma-3-270m
            train: true
            data: ../shared/lem/training
            fine_tune_type: lora
            optimizer: adamw
            optimizer_config:
              adamw:
                betas: [0.8, 0.95]
                eps: 1e-7
                weight_decay: 0.05
            seed: 7
            num_layers: -1
            batch_size: 2
            iters: 600
            val_batches: -1
            learning_rate: 1e-4
            steps_per_report: 5
            steps_per_eval: 50
            resume_adapter_file: null
            adapter_path: out/adapters
            save_every: 25
            test: false
            test_batches: 10
            max_seq_length: 1024
            grad_checkpoint: true
            grad_accumulation_steps: 4
            mask_prompt: true
            lora_parameters:
              keys: ["self_attn.q_proj", "self_attn.v_proj"]
              rank: 16
              scale: 10.0
              dropout: 0.05
            lr_schedule:
              name: cosine_decay
              warmup: 100
              warmup_init: 1e-7
              arguments: [1e-5, 1000, 1e-7]
            report_to: null
            """
        let c = try TrainingConfig(yaml: yaml)
        #expect(c.model == "models/gemma-3-270m" && c.train && c.data == "../shared/lem/training")
        #expect(c.optimizer == .adamw && c.seed == 7 && c.numLayers == -1 && c.batchSize == 2 && c.iters == 600)
        #expect(c.valBatches == -1 && c.learningRate == 1e-4 && c.stepsPerReport == 5 && c.stepsPerEval == 50)
        #expect(c.adapterPath == "out/adapters" && c.saveEvery == 25 && c.testBatches == 10 && c.maxSeqLength == 1024)
        #expect(c.gradCheckpoint && c.gradAccumulationSteps == 4 && c.maskPrompt)
        #expect(
            c.loraParameters
                == .init(rank: 16, scale: 10, dropout: 0.05, keys: ["self_attn.q_proj", "self_attn.v_proj"]))
        #expect(
            c.lrSchedule == .init(name: "cosine_decay", arguments: [1e-5, 1000, 1e-7], warmup: 100, warmupInit: 1e-7))
        #expect(c.ignoredKeys == [])
        try c.validate()
        let adamw = try #require(try c.makeOptimizer() as? AdamW)
        #expect(
            adamw.weightDecay == 0.05 && adamw.adam.beta1 == 0.8 && adamw.adam.beta2 == 0.95 && adamw.adam.eps == 1e-7)
        #expect(try c.makeSchedule().value(at: 0) == 1e-7)
        #expect(try c.adaptedLayers(layerCount: 18) == 0..<18)
        let json = try JSONSerialization.data(withJSONObject: c.mlxLMDictionary)
        let back = try JSONSerialization.jsonObject(with: json) as? [String: Any]
        #expect((back?["lora_parameters"] as? [String: Any])?["rank"] as? Int == 16)
        #expect(back?["num_layers"] as? Int == -1)
    }

    @Test func flagsOverrideYAML() throws {
        var c = try TrainingConfig(yaml: "batch_size: 2\niters: 50\n")
        try c.set("batch_size", to: .scalar("8", place: "--batch-size"))
        #expect(c.batchSize == 8 && c.iters == 50)
        #expect(try c.adaptedLayers(layerCount: 30) == 14..<30)
        #expect(throws: TrainingConfigError.self) { try c.adaptedLayers(layerCount: 4) }
    }

    @Test(arguments: [
        ("batch_sise: 2\n", "unknown config key 'batch_sise'", "config.yaml:1"),
        ("iters: 10\nlora_parameters:\n  rank: 4\n  alpha: 16\n", "'lora_parameters.alpha'", "not 'alpha'"),
        ("lora_parameters:\n  rnk: 4\n", "unknown config key 'lora_parameters.rnk'", "config.yaml:2"),
        ("batch_size: two\n", "'batch_size'", "config.yaml:1"),
        ("lr_schedule:\n  name: cosine\n  arguments: [1e-5, 10]\n", "lr_schedule.name", "unknown schedule"),
        ("optimizer_config:\n  adam:\n    weight_decay: 0.1\n", "optimizer_config.adam.weight_decay", "unknown"),
        ("fine_tune_type: full\n", "fine_tune_type", "expected 'lora' or 'dora'"),
        ("batch_size: [1\n", "config.yaml", "not valid YAML"),
        // Found by the yaml fuzz target: a step count past Int's range trapped in Int(_:).
        (
            "lr_schedule:\n  name: cosine_decay\n  arguments: [1e-5, 1009223372036854775808]\n",
            "lr_schedule.arguments",
            "decay_steps must be a whole number from 1 to 2^52"
        ),
        (
            "lr_schedule:\n  name: step_decay\n  arguments: [1e-5, 0.5, 1e300]\n", "lr_schedule.arguments",
            "step_size must be a whole number"
        ),
        (
            "lr_schedule:\n  name: cosine_decay\n  arguments: [1e-5, 10]\n  warmup: 9223372036854775807\n",
            "lr_schedule.warmup", "from 0 to 2^52"
        )
    ])
    func errorsNameTheKey(yaml: String, key: String, detail: String) {
        do {
            _ = try TrainingConfig(yaml: yaml)
            Issue.record("expected an error for \(yaml)")
        } catch {
            let text = error.localizedDescription
            #expect(text.contains(key), "\(text)")
            #expect(text.contains(detail), "\(text)")
        }
    }

    @Test func validationRanges() throws {
        var c = TrainingConfig()
        c.batchSize = 0
        #expect(throws: TrainingConfigError.self) { try c.validate() }
        c = try TrainingConfig(yaml: "optimizer: muon\nreport_to: wandb\n")
        #expect(c.ignoredKeys == ["report_to"])
        #expect(throws: TrainingConfigError.self) { try c.validate() }
    }
}
