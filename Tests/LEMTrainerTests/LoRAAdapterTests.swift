import Foundation
import LEMFormats
import TestSupport
import Testing

@testable import LEMTrainer

/// mlx_lm adapter folders (read what mlx_lm 0.32.2 wrote; write, read back) and the PEFT export.
@Suite struct LoRAAdapterTests {
    func temporaryFolder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("lem-adapter-\(UUID().uuidString)")
    }

    func sample() -> LoRAAdapter {
        var random = SeededGenerator(seed: 9)
        var weights: [LoRAWeights] = []
        for layer in [2, 1] {
            for module in ["self_attn.q_proj", "mlp.down_proj"] {
                var w = LoRAWeights.initialized(
                    layer: layer, module: module, inputs: 6, outputs: 4, rank: 2, using: &random)
                w.b = (0..<8).map { Float($0) * 0.25 - 1 }
                weights.append(w)
            }
        }
        return LoRAAdapter(parameters: .init(rank: 2, scale: 4, dropout: 0), numLayers: 2, weights: weights)
    }

    @Test func readsMLXLMAdapterFolder() throws {
        // mlx_lm's trainer saves without metadata, which mlx writes as `"__metadata__": null`.
        let adapter = try LoRAAdapter(folder: TestPaths.fixture("trainer/mlx_adapter"))
        #expect(adapter.weights.count == 14)
    }

    @Test func readsMLXLMAdapter() throws {
        let folder = TestPaths.fixture("trainer/mlx_adapter")
        let adapter = try LoRAAdapter(
            weightsFile: folder.appendingPathComponent("adapters_with_metadata.safetensors"),
            parameters: .init(rank: 2, scale: 4, dropout: 0), numLayers: 2)
        #expect(adapter.parameters == .init(rank: 2, scale: 4, dropout: 0))
        #expect(adapter.numLayers == 2)
        #expect(adapter.weights.count == 14)
        #expect(Set(adapter.weights.map(\.module)) == Set(LoRATargets.allLinear))
        #expect(Set(adapter.weights.map(\.layer)) == [1, 2])
        struct Fused: Decodable {
            var module: String
            var delta: [[Float]]
            var names: [String]
        }
        let fused = try JSONDecoder().decode(
            Fused.self, from: Data(contentsOf: folder.appendingPathComponent("fused.json")))
        let q = try #require(adapter.weights.first { $0.modulePath == fused.module })
        // Our fuse delta scale·(AB)ᵀ equals mlx_lm's LoRALinear.fuse.
        #expect(checkClose(q.delta(scale: 4), fused.delta.flatMap { $0 }, tol: 1e-5, label: "fused delta") == nil)
        // And we write the same tensor names mlx_lm does.
        #expect(try adapter.safetensors().tensorNames.sorted() == fused.names)
    }

    @Test func writesAndReadsBack() throws {
        let folder = temporaryFolder()
        var config = TrainingConfig()
        config.loraParameters = .init(rank: 2, scale: 4, dropout: 0)
        config.numLayers = 2
        let adapter = sample()
        try adapter.write(to: folder, config: config)
        let back = try LoRAAdapter(folder: folder)
        #expect(back == adapter)
        let checkpoint = try adapter.writeCheckpoint(to: folder, step: 100)
        #expect(checkpoint.lastPathComponent == "0000100_adapters.safetensors")
        #expect(LoRAAdapter.checkpointFile(step: 12_345_678) == "12345678_adapters.safetensors")
        let file = try SafetensorsFile(url: checkpoint)
        #expect(try file.tensor("model.layers.1.self_attn.q_proj.lora_a").shape == [6, 2])
        #expect(try file.tensor("model.layers.1.self_attn.q_proj.lora_b").shape == [2, 4])
        let json = try JSONSerialization.jsonObject(
            with: Data(contentsOf: folder.appendingPathComponent("adapter_config.json")))
        let dictionary = try #require(json as? [String: Any])
        #expect(dictionary["fine_tune_type"] as? String == "lora")
        #expect(dictionary["batch_size"] as? Int == 4)
        // No temporary files are left behind by the atomic writes.
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(names.sorted() == ["0000100_adapters.safetensors", "adapter_config.json", "adapters.safetensors"])
    }

    @Test func rejectsForeignTensors() throws {
        let folder = temporaryFolder()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var writer = SafetensorsWriter()
        try writer.add("model.layers.0.self_attn.q_proj.weight", shape: [2, 2], floats: [1, 2, 3, 4])
        let url = folder.appendingPathComponent("adapters.safetensors")
        try writer.write(to: url)
        #expect(throws: FormatError.self) {
            try LoRAAdapter(weightsFile: url, parameters: .init(rank: 2), numLayers: 1)
        }
        var wrongRank = SafetensorsWriter()
        try wrongRank.add("model.layers.0.mlp.up_proj.lora_a", shape: [2, 1], floats: [1, 2])
        try wrongRank.add("model.layers.0.mlp.up_proj.lora_b", shape: [1, 3], floats: [1, 2, 3])
        try wrongRank.write(to: url)
        #expect(throws: FormatError.self) {
            try LoRAAdapter(weightsFile: url, parameters: .init(rank: 2), numLayers: 1)
        }
    }

    @Test func peftExport() throws {
        let folder = temporaryFolder()
        let adapter = sample()
        try adapter.writePEFT(to: folder, baseModel: "google/gemma-3-270m")
        let file = try SafetensorsFile(url: folder.appendingPathComponent("adapter_model.safetensors"))
        let json = try JSONSerialization.jsonObject(
            with: Data(contentsOf: folder.appendingPathComponent("adapter_config.json")))
        let config = try #require(json as? [String: Any])
        #expect(config["r"] as? Int == 2)
        #expect(config["lora_alpha"] as? Double == 8)
        #expect(config["target_modules"] as? [String] == ["down_proj", "q_proj"])
        for w in adapter.weights {
            let prefix = "base_model.model.\(w.modulePath)"
            let a = try file.tensor("\(prefix).lora_A.weight")
            let b = try file.tensor("\(prefix).lora_B.weight")
            #expect(a.shape == [w.rank, w.inputs] && b.shape == [w.outputs, w.rank])
            // PEFT's delta (alpha/r)·B·A must equal the mlx_lm delta scale·(AB)ᵀ.
            let av = a.decodeAll()
            let bv = b.decodeAll()
            var delta = [Float](repeating: 0, count: w.outputs * w.inputs)
            for o in 0..<w.outputs {
                for i in 0..<w.inputs {
                    for r in 0..<w.rank {
                        delta[o * w.inputs + i] += Float(8.0 / 2.0) * bv[o * w.rank + r] * av[r * w.inputs + i]
                    }
                }
            }
            #expect(checkClose(delta, w.delta(scale: 4), tol: 1e-6, label: "PEFT delta \(w.modulePath)") == nil)
        }
    }
}
