import Foundation
import LEMFormats
import TestSupport
import Testing

@testable import LEMTrainer

/// The whole-model LoRA backward against PyTorch autograd on the tiny Llama, Gemma 3 and Qwen2
/// fixtures (Tests/Fixtures/trainer/backward, from Scripts/fixtures_trainer_backward.py).
@Suite struct TrainableTransformerTests {
    func check<T: TrainingScalar>(_ name: String, as _: T.Type, tolerance: Double) throws {
        let (reference, adapter, batch) = try BackwardReference.load("backward", name)
        let model = try TinyModels.oracle(name, as: T.self)
        #expect(adapter.weights.count == reference.gradients.count)
        let (loss, tokens, gradients) = model.lossAndGradients(batch: batch, mask: .exact, adapter: adapter)
        #expect(tokens == Double(reference.tokens))
        #expect(abs(loss - reference.loss) < 1e-5 * tolerance / 1e-5, "\(name) loss \(loss) vs \(reference.loss)")
        let expected = reference.expected
        let scaleA = expected.values.flatMap(\.a).map(abs).max() ?? 1
        let scaleB = expected.values.flatMap(\.b).map(abs).max() ?? 1
        try expectGradients(gradients, match: expected, tolA: tolerance * scaleA, tolB: tolerance * scaleB, label: name)
    }

    // The reference is float32-accurate (transformers keeps RMSNorm and RoPE in f32), hence the
    // tolerances relative to the largest gradient.
    @Test(arguments: ["llama3_tiny", "gemma3_tiny", "qwen2_tiny"])
    func matchesPyTorchInFloat64(_ name: String) throws {
        try check(name, as: Double.self, tolerance: 2e-5)
    }

    @Test(arguments: ["llama3_tiny", "gemma3_tiny"])
    func matchesPyTorchInFloat32(_ name: String) throws {
        try check(name, as: Float.self, tolerance: 2e-4)
    }

    @Test func adapterCoversTheLastLayers() throws {
        let model = try TinyModels.oracle("llama3_tiny", as: Float.self)
        var random = SeededGenerator(seed: 1)
        let adapter = try model.makeAdapter(parameters: .init(rank: 4, scale: 20), numLayers: 2, using: &random)
        #expect(adapter.weights.count == 14)
        #expect(Set(adapter.weights.map(\.layer)) == [1, 2])
        let q = try #require(adapter.weights.first { $0.module == "self_attn.q_proj" })
        #expect(q.inputs == 64 && q.outputs == 64 && q.b.allSatisfy { $0 == 0 })
        #expect(q.a.allSatisfy { abs($0) <= 1 / 8 })
        // B = 0: the adapted model is the base model, and the loss gradient reaches only B.
        let batch = TrainingBatch([TokenizedExample(tokens: [1, 5, 9, 12, 40], offset: 0)], maxSeqLength: 64)
        let (_, _, gradients) = model.lossAndGradients(batch: batch, adapter: adapter)
        let g = try #require(gradients[q.modulePath])
        #expect(g.a.allSatisfy { $0 == 0 })
        #expect(g.b.contains { $0 != 0 })
        #expect(throws: TrainingConfigError.self) {
            try model.makeAdapter(parameters: .init(keys: ["mlp.fc1"]), numLayers: 1, using: &random)
        }
    }
}
