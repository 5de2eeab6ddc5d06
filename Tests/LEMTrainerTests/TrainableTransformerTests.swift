import Foundation
import LEMFormats
import TestSupport
import Testing

@testable import LEMTrainer

/// The whole-model LoRA backward against PyTorch autograd on the tiny Llama, Gemma 3 and Qwen2
/// fixtures (Tests/Fixtures/trainer/backward, from Scripts/fixtures_trainer_backward.py).
@Suite struct TrainableTransformerTests {
    struct Reference: Decodable {
        struct Example: Decodable { var tokens: [Int]; var offset: Int }
        struct Gradient: Decodable { var a: [Double]; var b: [Double] }
        var rank: Int
        var scale: Double
        var num_layers: Int
        var examples: [Example]
        var loss: Double
        var tokens: Int
        var gradients: [String: Gradient]
    }

    func check<T: TrainingScalar>(_ name: String, as _: T.Type, tolerance: Double) throws {
        let folder = TestPaths.fixture("trainer/backward/\(name)")
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: folder.appendingPathComponent("reference.json")))
        let files = try ModelFiles.open(TestPaths.fixture("engine/\(name)"))
        let model = try TrainableTransformer<T>(config: files.config, tensors: files.tensors, source: name)
        let adapter = try LoRAAdapter(weightsFile: folder.appendingPathComponent("adapters.safetensors"),
                                      parameters: .init(rank: reference.rank, scale: reference.scale),
                                      numLayers: reference.num_layers)
        #expect(adapter.weights.count == reference.gradients.count)
        let batch = TrainingBatch(reference.examples.map { TokenizedExample(tokens: $0.tokens, offset: $0.offset) }, maxSeqLength: 2048)
        let (loss, tokens, gradients) = model.lossAndGradients(batch: batch, mask: .exact, adapter: adapter)
        #expect(tokens == Double(reference.tokens))
        #expect(abs(loss - reference.loss) < 1e-5 * tolerance / 1e-5, "\(name) loss \(loss) vs \(reference.loss)")
        let scaleA = reference.gradients.values.flatMap(\.a).map(abs).max() ?? 1
        let scaleB = reference.gradients.values.flatMap(\.b).map(abs).max() ?? 1
        for (path, expected) in reference.gradients.sorted(by: { $0.key < $1.key }) {
            let actual = try #require(gradients[path], "no gradient for \(path)")
            #expect(checkClose(actual.a, expected.a, tol: tolerance * scaleA, label: "\(name) \(path) dA") == nil)
            #expect(checkClose(actual.b, expected.b, tol: tolerance * scaleB, label: "\(name) \(path) dB") == nil)
        }
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
        let files = try ModelFiles.open(TestPaths.fixture("engine/llama3_tiny"))
        let model = try TrainableTransformer<Float>(config: files.config, tensors: files.tensors)
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
