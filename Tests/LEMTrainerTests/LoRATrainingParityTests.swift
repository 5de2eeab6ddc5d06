import Foundation
import LEMCore
import LEMFormats
import TestSupport
import Testing

@testable import LEMTrainer

/// 20-step runs of the fast model (`LoRATransformer`, what `lem train` uses) against mlx_lm 0.32.2
/// itself (Scripts/fixtures_trainer_trajectory_full.py): one batch holding the whole training set,
/// Adam, the same initial adapter; on a 4-bit MLX base (QLoRA) and with DoRA on the f32 and the
/// 4-bit base. Every step's loss and every validation loss within 1e-3 relative.
@Suite struct LoRATrainingParityTests {
    /// The run's settings, read from the same `reference.json` as its `TrajectoryReference`.
    struct Setup: Decodable {
        struct Config: Decodable {
            var seed: Int, num_layers: Int, batch_size: Int, iters: Int, steps_per_eval: Int
            var learning_rate: Double, rank: Int, scale: Double
        }
        var model: String
        var fine_tune_type: String
        var config: Config
    }

    @Test(arguments: ["mlx4", "dora", "dora_mlx4"])
    func matchesMLXLM(_ variant: String) throws {
        let folder = TestPaths.fixture("trainer/trajectory_\(variant)")
        let reference = try TrajectoryReference.load(folder)
        let setup = try TrajectoryReference.load(folder, as: Setup.self)
        let c = setup.config
        let config = try TrainingConfig(
            yaml: """
                fine_tune_type: \(setup.fine_tune_type)
                seed: \(c.seed)
                num_layers: \(c.num_layers)
                batch_size: \(c.batch_size)
                iters: \(c.iters)
                val_batches: -1
                steps_per_report: 1
                steps_per_eval: \(c.steps_per_eval)
                optimizer: adam
                learning_rate: \(c.learning_rate)
                lora_parameters: {rank: \(c.rank), scale: \(c.scale), dropout: 0.0}
                """)
        #expect(reference.train_examples.count == c.batch_size, "the batch must be the whole training set")
        let model = try TinyModels.fast(setup.model)
        let initial = try LoRAAdapter(
            weightsFile: folder.appendingPathComponent("adapters_init.safetensors"),
            parameters: config.loraParameters, numLayers: c.num_layers)
        #expect(initial.fineTuneType == setup.fine_tune_type)
        let training = try LoRATraining(config: config, options: .init(batchOrder: .mlxLMKeyCount, targetMask: .mlxLM))
        let (trained, events) = try reference.run(training, model: model, from: initial)

        let reports = events.trainReports
        #expect(reports.map(\.step) == reference.train.map(\.step))
        #expect(reports.count == 20)
        var worst = 0.0
        for (ours, theirs) in zip(reports, reference.train) {
            let relative = abs(ours.loss - theirs.loss) / abs(theirs.loss)
            worst = max(worst, relative)
            #expect(relative <= 1e-3, "\(variant) step \(ours.step): loss \(ours.loss) vs mlx_lm \(theirs.loss)")
            if let tokens = theirs.trained_tokens {
                #expect(ours.trainedTokens == tokens, "\(variant) step \(ours.step) tokens")
            }
        }
        // The run must move: the last loss is well below the first.
        #expect(reference.train.last!.loss < 0.9 * reference.train.first!.loss)
        let validations = events.validations
        #expect(validations.map(\.0) == reference.validation.map(\.step))
        for ((step, loss), theirs) in zip(validations, reference.validation) {
            #expect(
                abs(loss - theirs.loss) <= 1e-3 * abs(theirs.loss),
                "\(variant) validation at \(step): \(loss) vs \(theirs.loss)")
        }
        // The final adapter (A, B and, for DoRA, m) is mlx_lm's up to 1 % in relative Frobenius
        // norm: Adam's sign-like steps amplify f32 rounding only where a gradient is ~ 0.
        let final = try LoRAAdapter(
            weightsFile: folder.appendingPathComponent("adapters_final.safetensors"),
            parameters: config.loraParameters, numLayers: c.num_layers)
        #expect(trained.weights.map(\.modulePath) == final.weights.map(\.modulePath))
        var difference = 0.0
        var size = 0.0
        for (ours, theirs) in zip(trained.weights, final.weights) {
            let x: [Float] = ours.a + ours.b + (ours.magnitude ?? [])
            let y: [Float] = theirs.a + theirs.b + (theirs.magnitude ?? [])
            #expect(x.count == y.count, "\(ours.modulePath)")
            for (u, v) in zip(x, y) {
                difference += Double(u - v) * Double(u - v)
                size += Double(v) * Double(v)
            }
        }
        #expect(
            (difference / size).squareRoot() <= 1e-2,
            "\(variant) final adapter differs by \((difference / size).squareRoot())")
        print("trajectory \(variant): worst per-step relative loss difference \(worst)")
    }
}
