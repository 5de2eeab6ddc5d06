import Foundation
import LEMFormats
import TestSupport
import Testing

@Suite struct ModelInventoryTests {
    @Test func listsGGUFAndDirectoriesWithErrorsForBrokenOnes() throws {
        let dir = TemporaryDirectory()
        var b = GGUFBuilder.tinyLlama()
        b.metadata.append(("general.file_type", .u32(0)))
        b.f32Tensor("token_embd.weight", ne: [8, 3], (0..<24).map(Float.init))
        b.f32Tensor("output_norm.weight", ne: [8], [Float](repeating: 1, count: 8))
        dir.write("tiny.gguf", b.bytes())
        dir.write("broken.gguf", Array("GGUFxxxx".utf8))
        dir.write("notes.txt", text: "not a model")
        let sub = dir.url.appendingPathComponent("st-model")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        try Data(ModelFilesTests.tinyLlama.utf8).write(to: sub.appendingPathComponent("config.json"))
        var w = SafetensorsWriter()
        try w.add("model.embed_tokens.weight", shape: [3, 4], floats: [Float](repeating: 0, count: 12), as: .bf16)
        try w.add("model.norm.weight", shape: [4], floats: [1, 1, 1, 1])
        try w.write(to: sub.appendingPathComponent("model.safetensors"))

        let entries = try ModelInventory.list(dir.url)
        #expect(entries.map(\.name) == ["broken", "st-model", "tiny"])
        let broken = entries[0]
        let st = entries[1]
        let tiny = entries[2]
        #expect(broken.error?.contains("broken.gguf") == true && broken.architecture == nil)
        #expect(st.format == .safetensors && st.architecture == "llama" && st.parameterCount == 16)
        #expect(st.quantization == "bf16 (bf16 60%, f32 40%)", "\(st.quantization)")
        #expect(
            st.fileSize
                == (try FileManager.default.attributesOfItem(
                    atPath: sub.appendingPathComponent("model.safetensors").path)[.size] as? Int ?? -1)
                + ModelFilesTests.tinyLlama.utf8.count)
        #expect(tiny.format == .gguf && tiny.parameterCount == 32 && tiny.quantization == "F32" && tiny.error == nil)
        #expect(tiny.fileSize == b.bytes().count)
        #expect(
            errorMessage { _ = try ModelInventory.list(dir.url.appendingPathComponent("none")) }?.contains(
                "cannot list models") == true)
    }

    @Test(
        .enabled(if: TestPaths.smolLM2 != nil && TestPaths.gemma3 != nil, "models not installed: run Scripts/setup.sh"))
    func describesTheInstalledModels() throws {
        let smol = ModelInventory.describe(TestPaths.smolLM2!)
        #expect(smol.error == nil && smol.architecture == "llama" && smol.quantization.hasPrefix("Q4_1"))
        // SmolLM2-135M: 134.5M parameters (tied embeddings counted once).
        #expect((134_000_000...135_000_000).contains(smol.parameterCount), "\(smol.parameterCount)")
        let gemma = ModelInventory.describe(TestPaths.gemma3!)
        #expect(gemma.error == nil && gemma.architecture == "gemma3_text" && gemma.quantization.hasPrefix("Q4_K_M"))
        #expect((268_000_000...268_200_000).contains(gemma.parameterCount), "\(gemma.parameterCount)")
        #expect(gemma.fileSize > 200_000_000)
    }
}
