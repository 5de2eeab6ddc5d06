import Foundation
import LEMFormats
import TestSupport
import Testing

@testable import LEMTrainer

/// The fast QLoRA trainer model against its oracle `TrainableTransformer` (same tensors, dense
/// Float64) and against the PyTorch-autograd fixtures; checkpointing and dropout semantics.
@Suite struct LoRATransformerTests {
    /// A batch of three rows of different lengths, one with a masked prompt.
    static let batch = TrainingBatch([
        TokenizedExample(tokens: [1, 5, 9, 12, 40, 7, 3, 22, 19], offset: 3),
        TokenizedExample(tokens: [2, 8, 30, 31, 4], offset: 0),
        TokenizedExample(tokens: [6, 14, 25, 9, 11, 17, 50, 2, 44, 3, 8, 21], offset: 0),
    ], maxSeqLength: 64)

    /// An adapter over the last two blocks with non-zero B, so every gradient is non-trivial.
    static func adapter(for model: LoRATransformer, dropout: Double = 0) throws -> LoRAAdapter {
        var random = SeededGenerator(seed: 7)
        var adapter = try model.makeAdapter(parameters: .init(rank: 4, scale: 2, dropout: dropout), numLayers: 2, using: &random)
        for i in adapter.weights.indices {
            adapter.weights[i].b = adapter.weights[i].b.map { _ in Float.random(in: -0.2 ... 0.2, using: &random) }
        }
        return adapter
    }

    /// Fast loss and gradients vs the Float64 oracle on the same (possibly quantized) tensors.
    @Test(arguments: ["llama3_tiny", "gemma3_tiny", "qwen2_tiny", "gemma3_tiny-mlx4", "llama3_tiny-mlx4",
                      "gemma3_tiny_lcpp/model-q8_0.gguf"])
    func matchesOracle(_ name: String) throws {
        let files = try ModelFiles.open(TestPaths.fixture("engine/\(name)"))
        let fast = try LoRATransformer(config: files.config, tensors: files.tensors, source: name)
        let oracle = try TrainableTransformer<Double>(config: files.config, tensors: files.tensors, source: name)
        let adapter = try Self.adapter(for: fast)
        let (loss, tokens, gradients) = fast.lossAndGradients(batch: Self.batch, adapter: adapter)
        let (expectedLoss, expectedTokens, expected) = oracle.lossAndGradients(batch: Self.batch, adapter: adapter)
        #expect(tokens == expectedTokens)
        #expect(abs(loss - expectedLoss) <= 1e-4 * abs(expectedLoss), "\(name) loss \(loss) vs \(expectedLoss)")
        let scale = expected.values.flatMap { $0.a + $0.b }.map(abs).max() ?? 1
        #expect(scale > 0)
        for (path, e) in expected.sorted(by: { $0.key < $1.key }) {
            let g = try #require(gradients[path])
            #expect(checkClose(g.a, e.a, tol: 1e-4 * scale, label: "\(name) \(path) dA") == nil)
            #expect(checkClose(g.b, e.b, tol: 1e-4 * scale, label: "\(name) \(path) dB") == nil)
        }
        // Validation (no gradients) gives the same loss.
        let validation = fast.lossAndGradients(batch: Self.batch, adapter: adapter, computeGradients: false)
        #expect(abs(validation.loss - loss) <= 1e-6 * abs(loss))
    }

    /// The one-pass output head across many vocabulary tiles (the running max moves between
    /// tiles, so the gradient accumulator is rescaled) and through a final-logit soft cap.
    @Test(arguments: ["gemma3_tiny", "llama3_tiny"], [nil, 2.0])
    func headTilesAndSoftCap(_ name: String, cap: Double?) throws {
        let files = try ModelFiles.open(TestPaths.fixture("engine/\(name)"))
        var config = files.config
        config.finalLogitSoftcapping = cap
        var fast = try LoRATransformer(config: config, tensors: files.tensors, source: name)
        fast.headTileRows = 7
        let oracle = try TrainableTransformer<Double>(config: config, tensors: files.tensors, source: name)
        let adapter = try Self.adapter(for: fast)
        let (loss, _, gradients) = fast.lossAndGradients(batch: Self.batch, adapter: adapter)
        let (expectedLoss, _, expected) = oracle.lossAndGradients(batch: Self.batch, adapter: adapter)
        #expect(abs(loss - expectedLoss) <= 1e-4 * abs(expectedLoss), "\(name) loss \(loss) vs \(expectedLoss)")
        let scale = expected.values.flatMap { $0.a + $0.b }.map(abs).max() ?? 1
        for (path, e) in expected.sorted(by: { $0.key < $1.key }) {
            let g = try #require(gradients[path])
            #expect(checkClose(g.a, e.a, tol: 1e-4 * scale, label: "\(name) \(path) dA") == nil)
            #expect(checkClose(g.b, e.b, tol: 1e-4 * scale, label: "\(name) \(path) dB") == nil)
        }
        let validation = fast.lossAndGradients(batch: Self.batch, adapter: adapter, computeGradients: false)
        #expect(abs(validation.loss - loss) <= 1e-6 * abs(loss))
    }

    /// Gradient checkpointing recomputes exactly what the plain run kept.
    @Test(arguments: ["gemma3_tiny", "llama3_tiny"], [0.0, 0.3])
    func checkpointingIsIdentical(_ name: String, dropout: Double) throws {
        let files = try ModelFiles.open(TestPaths.fixture("engine/\(name)"))
        var model = try LoRATransformer(config: files.config, tensors: files.tensors, source: name)
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
        let folder = TestPaths.fixture("trainer/backward/\(name)")
        let reference = try JSONDecoder().decode(TrainableTransformerTests.Reference.self,
                                                 from: Data(contentsOf: folder.appendingPathComponent("reference.json")))
        let files = try ModelFiles.open(TestPaths.fixture("engine/\(name)"))
        let model = try LoRATransformer(config: files.config, tensors: files.tensors, source: name)
        let adapter = try LoRAAdapter(weightsFile: folder.appendingPathComponent("adapters.safetensors"),
                                      parameters: .init(rank: reference.rank, scale: reference.scale),
                                      numLayers: reference.num_layers)
        let batch = TrainingBatch(reference.examples.map { TokenizedExample(tokens: $0.tokens, offset: $0.offset) }, maxSeqLength: 2048)
        let (loss, tokens, gradients) = model.lossAndGradients(batch: batch, adapter: adapter)
        #expect(tokens == Double(reference.tokens))
        #expect(abs(loss - reference.loss) <= 1e-3 * abs(reference.loss), "\(name) loss \(loss) vs \(reference.loss)")
        let scaleA = reference.gradients.values.flatMap(\.a).map(abs).max() ?? 1
        let scaleB = reference.gradients.values.flatMap(\.b).map(abs).max() ?? 1
        for (path, expected) in reference.gradients.sorted(by: { $0.key < $1.key }) {
            let actual = try #require(gradients[path], "no gradient for \(path)")
            #expect(checkClose(actual.a, expected.a, tol: 1e-3 * scaleA, label: "\(name) \(path) dA") == nil)
            #expect(checkClose(actual.b, expected.b, tol: 1e-3 * scaleB, label: "\(name) \(path) dB") == nil)
        }
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
        #expect(mask != LoRADropout(probability: 0.25, seed: 11, step: 4).mask(layer: 1, module: "mlp.up_proj", count: 40_000))

        // With B = 0 the adapted output equals the base output whatever the mask, so dropout
        // changes the gradients (through x ⊙ mask) but not the loss.
        let files = try ModelFiles.open(TestPaths.fixture("engine/llama3_tiny"))
        let model = try LoRATransformer(config: files.config, tensors: files.tensors)
        var random = SeededGenerator(seed: 2)
        let adapter = try model.makeAdapter(parameters: .init(rank: 4, scale: 2, dropout: 0.5), numLayers: 1, using: &random)
        let plain = model.lossAndGradients(batch: Self.batch, adapter: adapter)
        let dropped = model.lossAndGradients(batch: Self.batch, adapter: adapter, dropout: LoRADropout(probability: 0.5, seed: 1, step: 1))
        #expect(abs(plain.loss - dropped.loss) < 1e-6)
        let path = adapter.weights[0].modulePath
        #expect(plain.gradients[path]!.b != dropped.gradients[path]!.b)
        // Validation ignores dropout.
        let validation = model.lossAndGradients(batch: Self.batch, adapter: adapter, computeGradients: false,
                                                dropout: LoRADropout(probability: 0.5, seed: 1, step: 1))
        #expect(abs(validation.loss - plain.loss) < 1e-6)
    }
}
