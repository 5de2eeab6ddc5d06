import Foundation
import LEMFormats
import TestSupport
import Testing

@testable import LEMTrainer

/// A whole training run against mlx_lm 0.32.2 on the tiny Llama (Scripts/fixtures_trainer_trajectory.py):
/// same batches, validation points, losses, learning rates and final adapter.
@Suite struct LoRATrainingTests {
    struct Reference: Decodable {
        struct Report: Decodable { var step: Int; var loss: Double; var lr: Double?; var trained_tokens: Int? }
        var train_examples: [[Int]]
        var valid_examples: [[Int]]
        var train: [Report]
        var validation: [Report]
    }

    func config() throws -> TrainingConfig {
        try TrainingConfig(yaml: """
            seed: 3
            num_layers: 2
            batch_size: 2
            iters: 6
            val_batches: -1
            steps_per_report: 1
            steps_per_eval: 3
            optimizer: adamw
            lora_parameters: {rank: 2, scale: 4.0, dropout: 0.0}
            lr_schedule: {name: cosine_decay, arguments: [2e-4, 6, 1e-5], warmup: 2, warmup_init: 1e-5}
            """)
    }

    @Test func matchesMLXLMTrajectory() throws {
        let folder = TestPaths.fixture("trainer/trajectory")
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: folder.appendingPathComponent("reference.json")))
        let files = try ModelFiles.open(TestPaths.fixture("engine/llama3_tiny"))
        let model = try TrainableTransformer<Float>(config: files.config, tensors: files.tensors)
        let config = try config()
        let initial = try LoRAAdapter(weightsFile: folder.appendingPathComponent("adapters_init.safetensors"),
                                      parameters: config.loraParameters, numLayers: 2)
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("lem-train-\(UUID().uuidString)")
        let training = try LoRATraining(config: config, options: .init(batchOrder: .mlxLMKeyCount, targetMask: .mlxLM,
                                                                         outputFolder: output))
        var events: [TrainingEvent] = []
        let trained = try training.run(
            model: model, adapter: initial, train: reference.train_examples.map { TokenizedExample(tokens: $0, offset: 0) },
            valid: reference.valid_examples.map { TokenizedExample(tokens: $0, offset: 0) }, onEvent: { events.append($0) })

        let reports = events.compactMap { if case .trainReport(let r) = $0 { r } else { nil } }
        #expect(reports.map(\.step) == reference.train.map(\.step))
        for (ours, theirs) in zip(reports, reference.train) {
            #expect(abs(ours.loss - theirs.loss) < 2e-5, "step \(ours.step) loss \(ours.loss) vs \(theirs.loss)")
            #expect(abs(ours.lr - theirs.lr!) < 1e-10, "step \(ours.step) lr")
            if let tokens = theirs.trained_tokens { #expect(ours.trainedTokens == tokens, "step \(ours.step) tokens") }
        }
        let validations = events.compactMap { if case .validation(let step, let loss, _) = $0 { (step, loss) } else { nil } }
        #expect(validations.map(\.0) == reference.validation.map(\.step))
        for ((step, loss), theirs) in zip(validations, reference.validation) {
            #expect(abs(loss - theirs.loss) < 2e-5, "validation at \(step): \(loss) vs \(theirs.loss)")
        }
        let final = try LoRAAdapter(weightsFile: folder.appendingPathComponent("adapters_final.safetensors"),
                                    parameters: config.loraParameters, numLayers: 2)
        for (ours, theirs) in zip(trained.weights, final.weights) {
            #expect(ours.modulePath == theirs.modulePath)
            #expect(checkClose(ours.a, theirs.a, tol: 2e-6, label: "\(ours.modulePath) A") == nil)
            #expect(checkClose(ours.b, theirs.b, tol: 2e-6, label: "\(ours.modulePath) B") == nil)
        }
        // The run wrote the adapter folder and a log holding the same events.
        #expect(try LoRAAdapter(folder: output) == trained)
        let logged = try TrainLog.read(output.appendingPathComponent("train-log.jsonl"))
        #expect(logged.count == events.count)
        // Foundation's JSON parser on Linux may miss the last ulp of 17-digit numbers.
        for (read, emitted) in zip(logged, events) {
            switch (read, emitted) {
            case (.trainReport(let a), .trainReport(let b)):
                #expect(a.step == b.step && a.trainedTokens == b.trainedTokens && a.lr == b.lr)
                #expect(abs(a.loss - b.loss) <= 1e-12 * abs(b.loss) && abs(a.itPerSec - b.itPerSec) <= 1e-12 * b.itPerSec)
            case (.validation(let s, let l, _), .validation(let t, let m, _)): #expect(s == t && abs(l - m) <= 1e-12 * abs(m))
            default: #expect(read == emitted)
            }
        }
        guard case .finished(6, _) = events.last else { Issue.record("last event \(String(describing: events.last))"); return }
    }

    @Test func cancellationStopsAfterTheCurrentIteration() throws {
        let files = try ModelFiles.open(TestPaths.fixture("engine/qwen2_tiny"))
        let model = try TrainableTransformer<Float>(config: files.config, tensors: files.tensors)
        var config = try config()
        config.iters = 50
        var random = SeededGenerator(seed: 4)
        let adapter = try model.makeAdapter(parameters: config.loraParameters, numLayers: 1, using: &random)
        let examples = (0 ..< 4).map { i in TokenizedExample(tokens: Array(3 ..< 10 + i), offset: 0) }
        var events: [TrainingEvent] = []
        _ = try LoRATraining(config: config).run(
            model: model, adapter: adapter, train: examples, valid: [], isCancelled: { true }, onEvent: { events.append($0) })
        #expect(events.last == .failed(step: 1, message: "cancelled"))
        #expect(!events.contains { if case .validation = $0 { true } else { false } })
    }
}
