import Foundation
import LEMFormats
import TestSupport
import Testing

@testable import LEMTrainer

/// The fast QLoRA trainer model against its oracle `TrainableTransformer` (same tensors, dense
/// Float64) and against the PyTorch-autograd fixtures; checkpointing and dropout semantics.
@Suite struct LoRATransformerTests {
    /// A batch of three rows of different lengths, one with a masked prompt.
    static let batch = TrainingBatch(
        [
            TokenizedExample(tokens: [1, 5, 9, 12, 40, 7, 3, 22, 19], offset: 3),
            TokenizedExample(tokens: [2, 8, 30, 31, 4], offset: 0),
            TokenizedExample(tokens: [6, 14, 25, 9, 11, 17, 50, 2, 44, 3, 8, 21], offset: 0)
        ], maxSeqLength: 64)

    /// An adapter over the last two blocks with non-zero B, so every gradient is non-trivial.
    static func adapter(for model: LoRATransformer, dropout: Double = 0) throws -> LoRAAdapter {
        var random = SeededGenerator(seed: 7)
        var adapter = try model.makeAdapter(
            parameters: .init(rank: 4, scale: 2, dropout: dropout), numLayers: 2, using: &random)
        for i in adapter.weights.indices {
            adapter.weights[i].b = adapter.weights[i].b.map { _ in Float.random(in: -0.2...0.2, using: &random) }
        }
        return adapter
    }

    /// Fast loss and gradients vs the Float64 oracle on the same (possibly quantized) tensors.
    @Test(arguments: [
        "llama3_tiny", "gemma3_tiny", "qwen2_tiny", "gemma3_tiny-mlx4", "llama3_tiny-mlx4",
        "gemma3_tiny_lcpp/model-q8_0.gguf"
    ])
    func matchesOracle(_ name: String) throws {
        let fast = try TinyModels.fast(name)
        try expectFastMatchesOracle(
            fast, TinyModels.oracle(name), batch: Self.batch, adapter: Self.adapter(for: fast),
            label: name)
    }

    /// The one-pass output head across many vocabulary tiles (the running max moves between
    /// tiles, so the gradient accumulator is rescaled) and through a final-logit soft cap.
    @Test(arguments: ["gemma3_tiny", "llama3_tiny"], [nil, 2.0])
    func headTilesAndSoftCap(_ name: String, cap: Double?) throws {
        var config = try TinyModels.files(name).config
        config.finalLogitSoftcapping = cap
        var fast = try TinyModels.fast(name, config: config)
        fast.headTileRows = 7
        try expectFastMatchesOracle(
            fast, TinyModels.oracle(name, config: config), batch: Self.batch,
            adapter: Self.adapter(for: fast), label: "\(name) cap \(String(describing: cap))")
    }

    /// Gradient checkpointing recomputes exactly what the plain run kept.
    @Test(arguments: ["gemma3_tiny", "llama3_tiny"], [0.0, 0.3])
    func checkpointingIsIdentical(_ name: String, dropout: Double) throws {
        var model = try TinyModels.fast(name)
        let adapter = try Self.adapter(for: model, dropout: dropout)
        let drop = LoRADropout(probability: dropout, seed: 3, step: 5)
        let plain = model.lossAndGradients(batch: Self.batch, adapter: adapter, dropout: drop)
        model.gradientCheckpointing = true
        let recomputed = model.lossAndGradients(batch: Self.batch, adapter: adapter, dropout: drop)
        #expect(plain.loss == recomputed.loss)
        for (path, g) in plain.gradients {
            #expect(recomputed.gradients[path]!.a == g.a && recomputed.gradients[path]!.b == g.b, "\(path)")
        }
    }

    /// The PyTorch-autograd whole-model fixtures pass through the fast path too.
    @Test(arguments: ["llama3_tiny", "gemma3_tiny", "qwen2_tiny"])
    func matchesPyTorch(_ name: String) throws {
        let (reference, adapter, batch) = try BackwardReference.load("backward", name)
        let (loss, tokens, gradients) = try TinyModels.fast(name).lossAndGradients(batch: batch, adapter: adapter)
        #expect(tokens == Double(reference.tokens))
        #expect(abs(loss - reference.loss) <= 1e-3 * abs(reference.loss), "\(name) loss \(loss) vs \(reference.loss)")
        let expected = reference.expected
        let scaleA = expected.values.flatMap(\.a).map(abs).max() ?? 1
        let scaleB = expected.values.flatMap(\.b).map(abs).max() ?? 1
        try expectGradients(gradients, match: expected, tolA: 1e-3 * scaleA, tolB: 1e-3 * scaleB, label: name)
    }

    /// Dropout follows mlx_lm: only the LoRA input is masked, kept values scale by 1/(1−p), the
    /// mask is seeded per (step, layer, module).
    @Test func dropoutMasks() throws {
        let drop = LoRADropout(probability: 0.25, seed: 11, step: 3)
        let mask = drop.mask(layer: 1, module: "mlp.up_proj", count: 40_000)
        #expect(Set(mask) == [0, Float(1 / 0.75)])
        let kept = Double(mask.filter { $0 != 0 }.count) / Double(mask.count)
        #expect(abs(kept - 0.75) < 0.01)
        #expect(mask == drop.mask(layer: 1, module: "mlp.up_proj", count: 40_000))
        #expect(mask != drop.mask(layer: 1, module: "mlp.gate_proj", count: 40_000))
        #expect(
            mask
                != LoRADropout(probability: 0.25, seed: 11, step: 4).mask(
                    layer: 1, module: "mlp.up_proj", count: 40_000))

        // With B = 0 the adapted output equals the base output whatever the mask, so dropout
        // changes the gradients (through x ⊙ mask) but not the loss.
        let model = try TinyModels.fast("llama3_tiny")
        var random = SeededGenerator(seed: 2)
        let adapter = try model.makeAdapter(
            parameters: .init(rank: 4, scale: 2, dropout: 0.5), numLayers: 1, using: &random)
        let plain = model.lossAndGradients(batch: Self.batch, adapter: adapter)
        let dropped = model.lossAndGradients(
            batch: Self.batch, adapter: adapter, dropout: LoRADropout(probability: 0.5, seed: 1, step: 1))
        #expect(abs(plain.loss - dropped.loss) < 1e-6)
        let path = adapter.weights[0].modulePath
        #expect(plain.gradients[path]!.b != dropped.gradients[path]!.b)
        // Validation ignores dropout.
        let validation = model.lossAndGradients(
            batch: Self.batch, adapter: adapter, computeGradients: false,
            dropout: LoRADropout(probability: 0.5, seed: 1, step: 1))
        #expect(abs(validation.loss - plain.loss) < 1e-6)
    }
}
