import Foundation
import LEMCore
import LEMFormats
import TestSupport
import Testing

@testable import LEMTrainer

/// DoRA training (mlx_lm `fine_tune_type: dora`): the fast model against the Float64 oracle and
/// the PyTorch-autograd + PEFT fixtures (Scripts/fixtures_trainer_backward.py dora), the
/// magnitude gradient against finite differences, and the loop's magnitude handling.
@Suite struct DoRATrainingTests {
    /// `LoRATransformerTests.adapter` (non-zero B) with magnitudes at the base row norms × U(0.8, 1.2),
    /// so `m / n` differs from 1 in every row.
    static func doraAdapter(for model: LoRATransformer) throws -> LoRAAdapter {
        var adapter = try LoRATransformerTests.adapter(for: model)
        var random = SeededGenerator(seed: 9)
        for i in adapter.weights.indices {
            let w = adapter.weights[i]
            adapter.weights[i].magnitude = try model.baseRowNorms(layer: w.layer, module: w.module)
                .map { $0 * Float.random(in: 0.8...1.2, using: &random) }
        }
        return adapter
    }

    /// Fast DoRA loss and every a / b / m gradient vs the Float64 oracle on the same tensors.
    @Test(arguments: ["llama3_tiny", "gemma3_tiny", "qwen2_tiny", "llama3_tiny-mlx4", "gemma3_tiny-mlx4"])
    func fastMatchesOracle(_ name: String) throws {
        let fast = try TinyModels.fast(name)
        let adapter = try Self.doraAdapter(for: fast)
        #expect(adapter.fineTuneType == "dora")
        let batch = LoRATransformerTests.batch
        let (loss, expected) = try expectFastMatchesOracle(
            fast, TinyModels.oracle(name), batch: batch, adapter: adapter,
            label: "\(name) DoRA")
        for (path, e) in expected {
            let em = try #require(e.m, "\(path): the oracle gave no magnitude gradient")
            #expect(em.contains(where: { $0 != 0 }))
        }
        // DoRA changes the loss (m ≠ n).
        var lora = adapter
        for i in lora.weights.indices { lora.weights[i].magnitude = nil }
        #expect(abs(fast.lossAndGradients(batch: batch, adapter: lora, computeGradients: false).loss - loss) > 1e-3)
    }

    /// The whole-model PyTorch autograd reference (checked against PEFT's DoRA by the script):
    /// the Float64 oracle within 2e-5 and the fast path within 1e-3 of the largest gradient.
    @Test(arguments: ["llama3_tiny", "gemma3_tiny", "qwen2_tiny"])
    func matchesPyTorch(_ name: String) throws {
        let (reference, adapter, batch) = try BackwardReference.load("backward_dora", name)
        #expect(adapter.fineTuneType == "dora")
        let expected = reference.expected
        #expect(expected.values.allSatisfy { $0.m != nil })
        let scale = largestGradient(expected)
        let fast = try TinyModels.fast(name)
        let oracle: TrainableTransformer<Double> = try TinyModels.oracle(name)
        let runs: [(String, (loss: Double, tokens: Double, gradients: [String: LoRAGradient<Float>]), Double)] = [
            ("fast", fast.lossAndGradients(batch: batch, adapter: adapter), 1e-3),
            (
                "oracle",
                oracle.lossAndFloatGradients(
                    batch: batch, mask: .exact, adapter: adapter, computeGradients: true,
                    dropout: nil), 2e-5
            )
        ]
        for (label, run, tolerance) in runs {
            #expect(Int(run.tokens) == reference.tokens)
            #expect(
                abs(run.loss - reference.loss) <= tolerance * abs(reference.loss),
                "\(name) \(label) loss \(run.loss) vs \(reference.loss)")
            #expect(run.gradients.count == reference.gradients.count)
            let tol = tolerance * scale
            try expectGradients(
                run.gradients, match: expected, tolA: tol, tolB: tol, tolM: tol, label: "\(name) \(label)")
        }
    }

    /// The loss depends on m only through the output rescale (the norms do not involve m), so
    /// central differences of the Float64 oracle's loss give dm exactly (up to O(h²)).
    @Test func magnitudeGradientMatchesFiniteDifferences() throws {
        let fast = try TinyModels.fast("qwen2_tiny")
        let oracle: TrainableTransformer<Double> = try TinyModels.oracle("qwen2_tiny")
        let adapter = try Self.doraAdapter(for: fast)
        let batch = LoRATransformerTests.batch
        let gradients = oracle.lossAndGradients(batch: batch, adapter: adapter).gradients
        for index in [0, 5, adapter.weights.count - 1] {
            let w = adapter.weights[index]
            for o in [0, w.outputs / 2, w.outputs - 1] {
                let h: Float = 1e-3
                func loss(_ delta: Float) -> Double {
                    var shifted = adapter
                    shifted.weights[index].magnitude![o] += delta
                    return oracle.lossAndGradients(batch: batch, adapter: shifted, computeGradients: false).loss
                }
                // m + h is not exactly representable: divide by the step actually taken.
                let up = w.magnitude![o] + h
                let down = w.magnitude![o] - h
                let numeric = (loss(h) - loss(-h)) / Double(up - down)
                let analytic = try #require(gradients[w.modulePath]?.m)[o]
                #expect(
                    abs(numeric - analytic) <= 1e-6 + 1e-4 * abs(analytic),
                    "\(w.modulePath) m[\(o)]: \(numeric) vs \(analytic)")
            }
        }
    }

    /// Gradient checkpointing recomputes DoRA's y0 too: bit-identical gradients.
    @Test func checkpointingIsIdentical() throws {
        var model = try TinyModels.fast("gemma3_tiny")
        let adapter = try Self.doraAdapter(for: model)
        let plain = model.lossAndGradients(batch: LoRATransformerTests.batch, adapter: adapter)
        model.gradientCheckpointing = true
        let recomputed = model.lossAndGradients(batch: LoRATransformerTests.batch, adapter: adapter)
        #expect(plain.loss == recomputed.loss)
        for (path, g) in plain.gradients {
            let r = try #require(recomputed.gradients[path])
            #expect(r.a == g.a && r.b == g.b && r.m == g.m, "\(path)")
        }
    }

    /// `fine_tune_type: dora` starts a fresh adapter at m = ‖W‖ (so the first loss is the base
    /// model's), trains m, and writes an mlx_lm DoRA folder that resumes with its magnitudes.
    @Test func loopTrainsAndSavesTheMagnitude() throws {
        let model = try TinyModels.fast("qwen2_tiny")
        var config = try TrainingConfig(
            yaml: """
                fine_tune_type: dora
                num_layers: 1
                batch_size: 4
                iters: 4
                steps_per_report: 1
                steps_per_eval: 100
                learning_rate: 1e-2
                lora_parameters: {rank: 2, scale: 2.0, dropout: 0.0}
                """)
        var random = NumpyRandomState(seed: 1)
        let fresh = try model.makeAdapter(parameters: config.loraParameters, numLayers: 1, using: &random)
        #expect(fresh.fineTuneType == "lora")
        let examples = (0..<4).map { i in TokenizedExample(tokens: Array(3..<12 + i), offset: 0) }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("lem-dora-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        // One batch of the whole set, so every step's loss is on the same examples.
        let training = try LoRATraining(config: config, options: .init(outputFolder: output))
        let prepared = try training.preparedAdapter(fresh, model: model)
        for w in prepared.weights { #expect(try w.magnitude == model.baseRowNorms(layer: w.layer, module: w.module)) }
        // With B = 0 and m = ‖W‖ the DoRA model is the base model.
        let batch = TrainingBatch(examples, maxSeqLength: 64)
        let doraLoss = model.lossAndGradients(batch: batch, adapter: prepared, computeGradients: false).loss
        let loraLoss = model.lossAndGradients(batch: batch, adapter: fresh, computeGradients: false).loss
        #expect(abs(doraLoss - loraLoss) <= 1e-6 * loraLoss)

        var events: [TrainingEvent] = []
        let trained = try training.run(
            model: model, adapter: fresh, train: examples, valid: [], onEvent: { events.append($0) })
        let losses = events.trainReports.map(\.loss)
        #expect(losses.count == 4 && losses.last! < losses.first!, "\(losses)")
        for (before, after) in zip(prepared.weights, trained.weights) {
            #expect(
                after.magnitude != nil && after.magnitude != before.magnitude, "\(after.modulePath): m was not trained")
        }
        let saved = try LoRAAdapter(folder: output)
        #expect(saved == trained)
        let json = try JSONSerialization.jsonObject(
            with: Data(contentsOf: output.appendingPathComponent(LoRAAdapter.configFile)))
        #expect((json as? [String: Any])?["fine_tune_type"] as? String == "dora")
        // Resuming keeps the saved magnitudes; a DoRA adapter under fine_tune_type lora is an error.
        #expect(try training.preparedAdapter(saved, model: model) == saved)
        config.fineTuneType = "lora"
        let loraTraining = try LoRATraining(config: config)
        #expect(throws: TrainingConfigError.self) { try loraTraining.preparedAdapter(saved, model: model) }
    }
}
