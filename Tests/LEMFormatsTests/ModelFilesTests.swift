import Foundation
import LEMFormats
import TestSupport
import Testing

@Suite struct ModelFilesTests {
    static let tinyLlama = """
        {"model_type": "llama", "hidden_size": 4, "intermediate_size": 8, "num_hidden_layers": 1,
         "num_attention_heads": 2, "vocab_size": 3, "tie_word_embeddings": true}
        """

    @Test func opensSingleFileDirectory() throws {
        let dir = TemporaryDirectory()
        dir.write("config.json", text: Self.tinyLlama)
        dir.write("generation_config.json", text: #"{"eos_token_id": [2, 7]}"#)
        var w = SafetensorsWriter(metadata: ["format": "pt"])
        try w.add("model.embed_tokens.weight", shape: [3, 4], floats: (0..<12).map(Float.init), as: .bf16)
        try w.add("model.norm.weight", shape: [4], floats: [1, 1, 1, 1])
        try w.write(to: dir.url.appendingPathComponent("model.safetensors"))
        let m = try ModelFiles.open(dir.url)
        #expect(m.format == .safetensors && m.config.hiddenSize == 4 && m.config.eosTokenIds == [2, 7])
        #expect(m.tensors.count == 2 && m.metadata == ["format": "pt"])
        let e = try m.tensor("model.embed_tokens.weight")
        #expect(e.shape == [3, 4] && e.encoding == "bf16" && e.decodeAll() == (0..<12).map(Float.init))
        let missing = errorMessage { _ = try m.tensor("lm_head.weight") }
        #expect(missing?.contains("'lm_head.weight'") == true && missing?.contains(dir.url.path) == true)
        #expect(m.source.contains("safetensors"))
    }

    @Test func opensShardsThroughTheIndexAndChecksIt() throws {
        let dir = TemporaryDirectory()
        dir.write("config.json", text: Self.tinyLlama)
        var a = SafetensorsWriter()
        try a.add("model.embed_tokens.weight", shape: [3, 4], floats: [Float](repeating: 1, count: 12))
        try a.write(to: dir.url.appendingPathComponent("model-00001-of-00002.safetensors"))
        var b = SafetensorsWriter()
        try b.add("model.norm.weight", shape: [4], floats: [2, 2, 2, 2])
        try b.write(to: dir.url.appendingPathComponent("model-00002-of-00002.safetensors"))
        dir.write(
            "model.safetensors.index.json",
            text:
                #"{"metadata": {}, "weight_map": {"model.embed_tokens.weight": "model-00001-of-00002.safetensors", "model.norm.weight": "model-00002-of-00002.safetensors"}}"#
        )
        let m = try ModelFiles.open(dir.url)
        let norm = try m.tensor("model.norm.weight").decodeAll()
        #expect(m.tensors.count == 2 && norm == [2, 2, 2, 2])

        dir.write(
            "model.safetensors.index.json",
            text:
                #"{"weight_map": {"model.embed_tokens.weight": "model-00001-of-00002.safetensors", "model.norm.weight": "model-00001-of-00002.safetensors"}}"#
        )
        let message = errorMessage { _ = try ModelFiles.open(dir.url) }
        #expect(
            message?.contains("model-00001-of-00002.safetensors: tensor 'model.norm.weight'") == true,
            "\(message ?? "")")
    }

    @Test func multimodalGemma3NamesMapToTheTextModel() throws {
        let dir = TemporaryDirectory()
        dir.write(
            "config.json",
            text:
                #"{"model_type": "gemma3", "text_config": {"hidden_size": 4, "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 1, "vocab_size": 3}}"#
        )
        var w = SafetensorsWriter()
        try w.add("language_model.model.norm.weight", shape: [4], floats: [0, 0, 0, 0])
        try w.add("vision_tower.x", shape: [1], floats: [0])
        try w.write(to: dir.url.appendingPathComponent("model.safetensors"))
        let m = try ModelFiles.open(dir.url)
        #expect(Array(m.tensors.keys) == ["model.norm.weight"])
    }

    @Test func missingConfigOrWeightsAreNamed() throws {
        let dir = TemporaryDirectory()
        #expect(errorMessage { _ = try ModelFiles.open(dir.url) }?.contains("config.json") == true)
        dir.write("config.json", text: Self.tinyLlama)
        #expect(errorMessage { _ = try ModelFiles.open(dir.url) }?.contains("no *.safetensors") == true)
        #expect(
            errorMessage { _ = try ModelFiles.open(dir.url.appendingPathComponent("nope")) }?.contains("no such file")
                == true)
    }
}
