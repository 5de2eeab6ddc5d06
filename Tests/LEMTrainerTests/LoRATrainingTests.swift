import Foundation
import LEMCore
import LEMFormats
import TestSupport
import Testing

@testable import LEMTrainer

/// A whole training run against mlx_lm 0.32.2 on the tiny Llama (Scripts/fixtures_trainer_trajectory.py):
/// same batches, validation points, losses, learning rates and final adapter.
@Suite struct LoRATrainingTests {
    func config() throws -> TrainingConfig {
        try TrainingConfig(
            yaml: """
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
        let reference = try TrajectoryReference.load(folder)
        let model = try TinyModels.oracle("llama3_tiny", as: Float.self)
        let config = try config()
        let initial = try LoRAAdapter(
            weightsFile: folder.appendingPathComponent("adapters_init.safetensors"),
            parameters: config.loraParameters, numLayers: 2)
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("lem-train-\(UUID().uuidString)")
        let training = try LoRATraining(
            config: config,
            options: .init(
                batchOrder: .mlxLMKeyCount, targetMask: .mlxLM,
                outputFolder: output))
        let (trained, events) = try reference.run(training, model: model, from: initial)

        let reports = events.trainReports
        #expect(reports.map(\.step) == reference.train.map(\.step))
        for (ours, theirs) in zip(reports, reference.train) {
            #expect(abs(ours.loss - theirs.loss) < 2e-5, "step \(ours.step) loss \(ours.loss) vs \(theirs.loss)")
            #expect(abs(ours.lr! - theirs.lr!) < 1e-10, "step \(ours.step) lr")
            if let tokens = theirs.trained_tokens { #expect(ours.trainedTokens == tokens, "step \(ours.step) tokens") }
        }
        let validations = events.validations
        #expect(validations.map(\.0) == reference.validation.map(\.step))
        for ((step, loss), theirs) in zip(validations, reference.validation) {
            #expect(abs(loss - theirs.loss) < 2e-5, "validation at \(step): \(loss) vs \(theirs.loss)")
        }
        let final = try LoRAAdapter(
            weightsFile: folder.appendingPathComponent("adapters_final.safetensors"),
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
                #expect(
                    abs(a.loss - b.loss) <= 1e-12 * abs(b.loss) && abs(a.itPerSec! - b.itPerSec!) <= 1e-12 * b.itPerSec!
                )
            case (.validation(let s, let l, _), .validation(let t, let m, _)):
                #expect(s == t && abs(l - m) <= 1e-12 * abs(m))
            case (.best(let s, let l, let p), .best(let t, let m, let q)):
                #expect(s == t && p == q && abs(l - m) <= 1e-12 * abs(m))
            default: #expect(read == emitted)
            }
        }
        guard case .finished(6, _) = events.last else {
            Issue.record("last event \(String(describing: events.last))")
            return
        }
    }

    @Test func cancellationStopsAfterTheCurrentIteration() throws {
        let model = try TinyModels.oracle("qwen2_tiny", as: Float.self)
        var config = try config()
        config.iters = 50
        var random = SeededGenerator(seed: 4)
        let adapter = try model.makeAdapter(parameters: config.loraParameters, numLayers: 1, using: &random)
        let examples = (0..<4).map { i in TokenizedExample(tokens: Array(3..<10 + i), offset: 0) }
        var events: [TrainingEvent] = []
        _ = try LoRATraining(config: config).run(
            model: model, adapter: adapter, train: examples, valid: [], isCancelled: { true },
            onEvent: { events.append($0) })
        #expect(events.last == .failed(step: 1, message: "cancelled"))
        #expect(!events.contains { if case .validation = $0 { true } else { false } })
    }

    /// Every new best validation writes `best/`, whose adapter gives exactly that loss again;
    /// with a patience of 2 a diverging run (a far too large learning rate) ends two validations
    /// after its best, with the last weights in the output folder.
    @Test func keepsTheBestAdapterAndStopsEarly() throws {
        let model = try TinyModels.oracle("qwen2_tiny", as: Float.self)
        var config = try config()
        config.iters = 40
        config.stepsPerEval = 2
        config.lrSchedule = nil
        config.learningRate = 0.5
        config.earlyStoppingPatience = 2
        var random = SeededGenerator(seed: 4)
        let adapter = try model.makeAdapter(parameters: config.loraParameters, numLayers: 1, using: &random)
        let train = (0..<4).map { i in TokenizedExample(tokens: Array(3..<10 + i), offset: 0) }
        let valid = (0..<2).map { i in TokenizedExample(tokens: Array(5..<12 + i), offset: 0) }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("lem-best-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        let training = try LoRATraining(config: config, options: .init(outputFolder: output))
        var events: [TrainingEvent] = []
        let final = try training.run(
            model: model, adapter: adapter, train: train, valid: valid, onEvent: { events.append($0) })

        let validations = events.validations
        let bests = events.compactMap { if case .best(let step, let loss, _) = $0 { (step, loss) } else { nil } }
        let best = try #require(validations.min { $0.1 < $1.1 })
        #expect(bests.last?.0 == best.0 && bests.last?.1 == best.1)
        #expect(bests.map(\.1) == bests.map(\.1).sorted(by: >), "each best beats the previous")
        // Stopped two validations after the best, well before the last iteration.
        let afterBest = validations.filter { $0.0 > best.0 }
        #expect(afterBest.count == 2 && afterBest.allSatisfy { $0.1 >= best.1 })
        guard case .finished(let step, let path) = events.last else {
            Issue.record("last event \(String(describing: events.last))")
            return
        }
        #expect(step == validations.last!.0 && step < config.iters)
        #expect(path == output.appendingPathComponent(LoRAAdapter.weightsFile).path)
        #expect(try LoRAAdapter(folder: output) == final)
        // The kept adapter reproduces the best loss; the final one the last validation's.
        let batches = try BatchIterator(examples: valid, batchSize: config.batchSize, maxSeqLength: config.maxSeqLength)
        func loss(_ a: LoRAAdapter) -> Double {
            var random = NumpyRandomState(seed: 0)
            return training.evaluate(model: model, adapter: a, batches: batches, limit: -1, random: &random)
        }
        let kept = try LoRAAdapter(folder: output.appendingPathComponent(LoRATraining.bestFolder))
        #expect(abs(loss(kept) - best.1) <= 1e-12 * abs(best.1), "best/ gives \(loss(kept)), the run saw \(best.1)")
        #expect(abs(loss(final) - validations.last!.1) <= 1e-12 * abs(validations.last!.1))
    }
}
