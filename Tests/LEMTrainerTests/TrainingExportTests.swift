import Foundation
import LEMCore
import LEMFormats
import TestSupport
import Testing

@testable import LEMTrainer

/// `lem train --export mlx_lm|trl DIR`: the config reads back with the run's values, the data
/// lines are the records in the target's format, bad models are named, the folder is all or nothing.
@Suite struct TrainingExportTests {
    static let model = TestPaths.fixture("engine/llama3_tiny")
    static let chatData = TestPaths.fixture("trainer/export/chat")

    /// A run over the chat fixture with most keys away from their defaults.
    static func config(adapterPath: String? = nil) throws -> TrainingConfig {
        var yaml = """
            model: \(model.path)
            data: \(chatData.path)
            fine_tune_type: dora
            num_layers: 2
            batch_size: 2
            iters: 6
            learning_rate: 2e-4
            lr_schedule: {name: cosine_decay, arguments: [2e-4, 6, 1e-5], warmup: 2, warmup_init: 0.0}
            optimizer: adamw
            optimizer_config: {adamw: {weight_decay: 0.02, betas: [0.9, 0.95]}}
            steps_per_report: 2
            steps_per_eval: 3
            val_batches: 1
            save_every: 4
            max_seq_length: 256
            grad_checkpoint: true
            grad_accumulation_steps: 2
            seed: 7
            mask_prompt: true
            lora_parameters: {rank: 4, scale: 10.0, dropout: 0.05, keys: [self_attn.q_proj, self_attn.v_proj]}

            """
        if let adapterPath { yaml += "adapter_path: \(adapterPath)\n" }
        return try TrainingConfig(yaml: yaml)
    }

    /// The export of the default config in `format` to `<dir>/run`, and its training lines.
    static func exportedTrainLines(_ format: TrainingExport.Format, in dir: URL) throws -> [String] {
        let folder = dir.appendingPathComponent("run")
        try TrainingExport.prepare(config: try config(), format: format).write(to: folder)
        return try lines(folder.appendingPathComponent("data/train.jsonl"))
    }

    /// The non-blank lines of a file.
    static func lines(_ url: URL) throws -> [String] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    @Test func mlxLMConfigReadsBackWithTheRunsValues() throws {
        try TemporaryFolder.with("export-mlx") { dir in
            let original = try Self.config(adapterPath: dir.appendingPathComponent("out").path)
            let folder = dir.appendingPathComponent("run")
            let export = try TrainingExport.prepare(config: original, format: .mlxLM)
            #expect(export.problems.isEmpty)
            try export.write(to: folder)

            let back = try TrainingConfig(yamlFile: folder.appendingPathComponent("config.yaml"))
            #expect(back.model == Self.model.path)
            #expect(back.data == folder.appendingPathComponent("data").path)
            #expect(back.adapterPath == dir.appendingPathComponent("out").path)
            #expect(back.train && !back.test)
            #expect(back.fineTuneType == "dora" && back.numLayers == 2 && back.batchSize == 2 && back.iters == 6)
            #expect(back.learningRate == 2e-4 && back.lrSchedule == original.lrSchedule)
            #expect(back.optimizer == .adamw && back.optimizerConfig == original.optimizerConfig)
            #expect(back.stepsPerReport == 2 && back.stepsPerEval == 3 && back.valBatches == 1 && back.saveEvery == 4)
            #expect(back.maxSeqLength == 256 && back.gradCheckpoint && back.gradAccumulationSteps == 2)
            #expect(back.seed == 7 && back.maskPrompt)
            #expect(back.loraParameters == original.loraParameters)
            #expect(back.ignoredKeys.isEmpty)
            let launch = try String(contentsOf: folder.appendingPathComponent("launch.sh"), encoding: .utf8)
            #expect(launch.contains("exec mlx_lm lora -c config.yaml"))
            #expect(launch.contains("mlx.launch --hosts mac1,mac2 -- mlx_lm lora -c \(folder.path)/config.yaml"))
            let mode =
                try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent("launch.sh").path)[
                    .posixPermissions] as? Int
            #expect(mode == 0o755)
            let readme = try String(contentsOf: folder.appendingPathComponent("README.md"), encoding: .utf8)
            #expect(readme.contains("mlx_lm lora -c \(folder.path)/config.yaml"))
            #expect(readme.contains("train.jsonl: 4 examples, valid.jsonl: 2 examples, test.jsonl: 2 examples"))
        }
    }

    @Test func mlxLMDataIsTheRecordsWithoutBlankLines() throws {
        try TemporaryFolder.with("export-mlx-data") { dir in
            let folder = dir.appendingPathComponent("run")
            let train = try Self.exportedTrainLines(.mlxLM, in: dir)
            #expect(train.count == 4)
            #expect(
                train[1]
                    == #"{"messages":[{"role":"user","content":"Name a cat's sound."},"#
                    + #"{"role":"assistant","content":"Meow."}]}"#)
            #expect(train[3].contains(#"Say \"hi\" in French."#) && train[3].contains("« bonjour »"))
            for name in ["train", "valid", "test"] {
                let written = try DatasetSplit(file: folder.appendingPathComponent("data/\(name).jsonl"))
                let source = try DatasetSplit(file: Self.chatData.appendingPathComponent("\(name).jsonl"))
                #expect(written.records.map(\.example) == source.records.map(\.example), "\(name)")
                #expect(written.format == .chat)
            }
        }
    }

    @Test func trlConfigMapsTheRunsValues() throws {
        try TemporaryFolder.with("export-trl") { dir in
            let folder = dir.appendingPathComponent("run")
            let export = try TrainingExport.prepare(config: try Self.config(), format: .trl, maxGradNorm: 1.5)
            try export.write(to: folder)
            let text = try String(contentsOf: folder.appendingPathComponent("config.yaml"), encoding: .utf8)
            var values: [String: ConfigValue] = [:]
            for (key, value) in try ConfigValue.parseYAML(text, file: "config.yaml") { values[key] = value }
            func scalar(_ key: String) -> String? {
                if case .scalar(let s, _)? = values[key] { return s }
                return nil
            }
            #expect(scalar("model_name_or_path") == Self.model.path)
            #expect(scalar("dataset_name") == folder.appendingPathComponent("data").path)
            #expect(scalar("dataset_train_split") == "train" && scalar("dataset_test_split") == "validation")
            #expect(scalar("output_dir") == folder.appendingPathComponent("adapters").path)
            #expect(scalar("max_steps") == "3")  // 6 iterations, 2 batches per update
            #expect(scalar("per_device_train_batch_size") == "2" && scalar("gradient_accumulation_steps") == "2")
            #expect(
                scalar("max_length") == "256" && scalar("seed") == "7" && scalar("gradient_checkpointing") == "true")
            #expect(scalar("learning_rate") == "0.0002" && scalar("lr_scheduler_type") == "cosine_with_min_lr")
            #expect(scalar("warmup_steps") == "2" && scalar("optim") == "adamw_torch")
            #expect(scalar("adam_beta2") == "0.95" && scalar("weight_decay") == "0.02")
            #expect(scalar("max_grad_norm") == "1.5")
            #expect(scalar("eval_strategy") == "steps" && scalar("eval_steps") == "3")
            #expect(scalar("logging_steps") == "2" && scalar("save_steps") == "4")
            #expect(scalar("completion_only_loss") == "true")
            #expect(scalar("use_peft") == "true" && scalar("use_dora") == "true")
            #expect(scalar("lora_r") == "4" && scalar("lora_alpha") == "40" && scalar("lora_dropout") == "0.05")
            // Layers 1 and 2 of the three, q and v only: one regular expression for PEFT.
            #expect(
                values["lora_target_modules"]
                    == .list(
                        [.scalar(#".*\.layers\.(1|2)\.(self_attn\.q_proj|self_attn\.v_proj)"#, place: "")], place: ""))
            #expect(text.contains("so alpha = rank × scale = 4 × 10.0\nlora_alpha: 40\n"))
            let readme = try String(contentsOf: folder.appendingPathComponent("README.md"), encoding: .utf8)
            #expect(readme.contains("trl sft --config \(folder.path)/config.yaml"))
            #expect(readme.contains("val_batches has no TRL equivalent"))
        }
    }

    @Test func trlDataSplitsTheLastTurnOffUnderMaskPrompt() throws {
        try TemporaryFolder.with("export-trl-data") { dir in
            let train = try Self.exportedTrainLines(.trl, in: dir)
            #expect(train.count == 4)
            #expect(
                train[0]
                    == #"{"prompt":[{"role":"system","content":"Answer briefly."},"#
                    + #"{"role":"user","content":"What colour is the sky?"}],"#
                    + #""completion":[{"role":"assistant","content":"Blue, on a clear day."}]}"#)
            // Without mask_prompt, chat records stay whole.
            let whole = dir.appendingPathComponent("whole")
            var unmasked = try Self.config()
            unmasked.maskPrompt = false
            try TrainingExport.prepare(config: unmasked, format: .trl).write(to: whole)
            let text = try String(contentsOf: whole.appendingPathComponent("config.yaml"), encoding: .utf8)
            #expect(!text.contains("completion_only_loss"))
            #expect(
                try Self.lines(whole.appendingPathComponent("data/valid.jsonl"))[0]
                    == #"{"messages":[{"role":"user","content":"Opposite of up?"},"#
                    + #"{"role":"assistant","content":"Down."}]}"#)
        }
    }

    @Test func trlTargetsShortNamesWhenEveryBlockIsAdapted() throws {
        var config = try Self.config()
        config.numLayers = -1
        config.loraParameters = .init(rank: 8, scale: 2.5, dropout: 0, keys: nil)
        let export = try TrainingExport.prepare(config: config, format: .trl)
        let (modules, note) = export.trlTargetModules()
        #expect(modules == ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
        #expect(note == nil)
        config.numLayers = 3
        config.loraParameters.keys = ["mlp.down_proj"]
        #expect(
            try TrainingExport.prepare(config: config, format: .trl).trlTargetModules().modules == [#".*\.down_proj"#])
    }

    @Test func ggufModelIsNamedAsAProblem() throws {
        let gguf = Self.model.appendingPathComponent("model-f32.gguf")
        var config = try Self.config()
        config.model = gguf.path
        for format in TrainingExport.Format.allCases {
            let export = try TrainingExport.prepare(config: config, format: format)
            #expect(export.model.kind == .gguf)
            #expect(export.problems.count == 1)
            #expect(export.problems.first?.contains("cannot train on a GGUF file (\(gguf.path))") == true)
            #expect(export.problems.first?.hasSuffix("the same model, e.g. ORG/NAME") == true)
            let folder = try TemporaryFolder.with("export-gguf") { dir -> String in
                try export.write(to: dir.appendingPathComponent("run"))
                return try String(contentsOf: dir.appendingPathComponent("run/README.md"), encoding: .utf8)
            }
            #expect(folder.contains("**Before you run it:**"))
        }
        #expect(
            errorMessage { try MLXLMRun(config: config, executable: URL(fileURLWithPath: "/bin/true")) }
                .hasPrefix("mlx_lm cannot train on a GGUF file"))
    }

    /// The repository a metadata-only GGUF file with `pairs` names.
    static func ggufSource(_ pairs: [(String, GGUFValue)]) throws -> String? {
        try TemporaryFolder.with("export-gguf-source") { dir in
            let url = dir.appendingPathComponent("metadata.gguf")
            try GGUFMetadataWriter.write(pairs, to: url)
            return ExportedModel.repository(named: try GGUFFile(url: url))
        }
    }

    @Test func ggufMetadataNamesItsRepositoryOnlyWhenItSaysSo() throws {
        #expect(
            try Self.ggufSource([("general.source.huggingface.repository", .string("Org/Model-1B"))]) == "Org/Model-1B")
        #expect(
            try Self.ggufSource([("general.base_model.0.repo_url", .string("https://huggingface.co/Org/Base-1B/"))])
                == "Org/Base-1B")
        // SmolLM2-135M-Instruct's own metadata: names of a training run, not a repository.
        #expect(
            try Self.ggufSource([
                ("general.organization", .string("HuggingFaceTB")), ("general.basename", .string("smollm2")),
                ("general.finetune", .string("8k-lc100k-mix1-ep2"))
            ]) == nil)
        #expect(try Self.ggufSource([("general.source.url", .string("https://example.com/model"))]) == nil)
    }

    @Test func hubSnapshotIsWrittenAsItsRepository() throws {
        try TemporaryFolder.with("export-hub") { dir in
            let snapshot = dir.appendingPathComponent("hub/models--Org--Tiny-Model/snapshots/0123abcd")
            try FileManager.default.createDirectory(at: snapshot, withIntermediateDirectories: true)
            try FileManager.default.copyItem(
                at: Self.model.appendingPathComponent("config.json"), to: snapshot.appendingPathComponent("config.json")
            )
            let model = ExportedModel(snapshot.path)
            #expect(model.kind == .hubRepository("Org/Tiny-Model") && model.layerCount == 3)
            #expect(model.reference() == "Org/Tiny-Model")
            #expect(model.reference(preferLocal: true) == snapshot.path)
            #expect(model.problem(for: .mlxLM) == nil && model.localNote == nil)
            let absent = ExportedModel("Org/Not-Here")
            #expect(
                absent.kind == .hubRepository("Org/Not-Here") && absent.reference(preferLocal: true) == "Org/Not-Here")
            #expect(ExportedModel(Self.model.path).localNote?.contains("local folder") == true)
        }
    }

    @Test func refusesAFolderThatIsNotEmptyAndLeavesNoPartialOutput() throws {
        try TemporaryFolder.with("export-refuse") { dir in
            let folder = dir.appendingPathComponent("run")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data("keep".utf8).write(to: folder.appendingPathComponent("notes.txt"))
            let export = try TrainingExport.prepare(config: try Self.config(), format: .mlxLM)
            #expect(
                errorMessage { try export.write(to: folder) }
                    == "\(folder.path): exists and is not empty; choose a new folder or remove it first")
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["notes.txt"])
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["run"])
            // An empty folder is filled.
            try FileManager.default.removeItem(at: folder.appendingPathComponent("notes.txt"))
            try export.write(to: folder)
            #expect(
                try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
                    == ["README.md", "config.yaml", "data", "launch.sh"])
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["run"])
        }
    }

    @Test func badInputStopsTheExportAsItStopsARun() throws {
        var config = try Self.config()
        config.batchSize = 3  // valid.jsonl has 2 examples
        #expect(
            errorMessage { try TrainingExport.prepare(config: config, format: .trl) }
                == "\(Self.chatData.path)/valid.jsonl: 2 examples, fewer than the batch size 3")
        config.model = nil
        #expect(
            errorMessage { try TrainingExport.prepare(config: config, format: .mlxLM) }
                == "no model: give --model or model: in the config")
    }

    @Test func floatsKeepADecimalPointForPyYAML() {
        #expect(YAMLText.number(1e-5) == "1.0e-05")
        #expect(YAMLText.number(20) == "20.0")
        #expect(YAMLText.number(0.0002) == "0.0002")
        #expect(YAMLText.number(1.5e20) == "1.5e+20")
        #expect(YAMLText.flow(.string("no")) == "\"no\"")
    }
}
