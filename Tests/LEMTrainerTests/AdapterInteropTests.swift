import Foundation
import LEMEngine
import LEMFormats
import TestSupport
import Testing

@testable import LEMTrainer

/// The trainer's adapter files and the engine's inference reader agree (mlx_lm and PEFT layouts,
/// LoRA and DoRA), and the trainer reads DoRA adapters mlx_lm wrote.
@Suite struct AdapterInteropTests {
    func temporaryFolder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("lem-interop-\(UUID().uuidString)")
    }

    func sample(dora: Bool) -> LoRAAdapter {
        var random = SeededGenerator(seed: 4)
        var weights: [LoRAWeights] = []
        for module in ["self_attn.q_proj", "mlp.down_proj"] {
            var w = LoRAWeights.initialized(layer: 1, module: module, inputs: 6, outputs: 4, rank: 2, using: &random)
            w.b = (0..<8).map { Float($0) * 0.25 - 1 }
            if dora { w.magnitude = (0..<4).map { 1 + Float($0) * 0.5 } }
            weights.append(w)
        }
        return LoRAAdapter(parameters: .init(rank: 2, scale: 3, dropout: 0), numLayers: 1, weights: weights)
    }

    @Test(arguments: [false, true])
    func engineReadsWhatTheTrainerWrites(dora: Bool) throws {
        let adapter = sample(dora: dora)
        for peft in [false, true] {
            let folder = temporaryFolder()
            if peft { try adapter.writePEFT(to: folder) } else { try adapter.write(to: folder) }
            let read = try InferenceAdapter(folder: folder)
            #expect(read.format == (peft ? .peft : .mlx))
            #expect(read.fineTuneType == (dora ? .dora : .lora))
            #expect(read.modules.count == adapter.weights.count)
            for w in adapter.weights {
                let m = try #require(read.modules[w.modulePath])
                #expect(m.a == w.a && m.b == w.b && m.magnitude == w.magnitude && m.rank == w.rank)
                #expect(abs(m.scale - 3) < 1e-6)
            }
            if !peft { #expect(try LoRAAdapter(folder: folder) == adapter) }
        }
    }

    @Test func trainerReadsMLXLMDoRA() throws {
        let folder = TestPaths.fixture("adapters/mlx_llama3_dora")
        let adapter = try LoRAAdapter(folder: folder)
        let engine = try InferenceAdapter(folder: folder)
        #expect(adapter.fineTuneType == "dora")
        #expect(adapter.weights.count == engine.modules.count)
        for w in adapter.weights { #expect(engine.modules[w.modulePath]?.magnitude == w.magnitude) }
    }

    @Test func magnitudeStartsAtTheBaseRowNorms() {
        let w = DenseWeight(name: "w", shape: [2, 3], values: [3, 4, 0, 1, 2, 2])
        var random = SeededGenerator(seed: 1)
        var lora = LoRAWeights.initialized(
            layer: 0, module: "mlp.up_proj", inputs: 3, outputs: 2, rank: 1, using: &random)
        lora.initializeMagnitude(from: w)
        #expect(lora.magnitude == [5, 3])
    }
}
