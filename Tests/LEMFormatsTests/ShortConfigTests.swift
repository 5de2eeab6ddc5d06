import Foundation
import LEMFormats
import TestSupport
import Testing

/// Short configs (keys equal to transformers' class defaults left out, as transformers 4.x saved
/// them) read to the same `ModelConfig` as transformers' full expansion of them
/// (Scripts/fixtures_short_configs.py, transformers 5.25).
@Suite struct ShortConfigTests {
    static let directory = TestPaths.fixture("formats/short-configs")
    static let names: [String] = {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".short.json") }.map { String($0.dropLast(".short.json".count)) }.sorted()
    }()

    func load(_ name: String, _ style: String) throws -> ModelConfig {
        let url = Self.directory.appendingPathComponent("\(name).\(style).json")
        return try ModelConfig(configJSON: try Data(contentsOf: url), file: url)
    }

    @Test func everyFixturePairIsPresent() {
        #expect(Self.names.count >= 11, "\(Self.names)")
    }

    @Test(arguments: names) func shortReadsAsFull(name: String) throws {
        let short = try load(name, "short")
        let full = try load(name, "full")
        #expect(short == full, "\(name):\nshort \(short)\nfull  \(full)")
    }

    @Test func gemma3FourBillionAsPublished() throws {
        let c = try load("gemma3-4b", "short")
        #expect(c.modelType == "gemma3_text" && c.hiddenSize == 2560 && c.numHiddenLayers == 34)
        #expect(c.numAttentionHeads == 8 && c.numKeyValueHeads == 4 && c.headDim == 256 && c.vocabSize == 262_208)
        #expect(c.ropeScaling == .linear(factor: 8) && c.ropeLocalScaling == .none)
        #expect(c.ropeTheta == 1_000_000 && c.ropeLocalTheta == 10_000 && c.queryPreAttnScalar == 256)
        #expect(c.slidingWindow == 1024 && c.layerTypes[5] == .fullAttention && c.layerTypes[4] == .slidingAttention)
        #expect(c.eosTokenIds == [1, 106] && c.bosTokenId == 2 && c.padTokenId == 0 && c.tieWordEmbeddings)
        #expect(c.maxPositionEmbeddings == 131_072 && c.hiddenActivation == "gelu_pytorch_tanh")
    }

    @Test func absentAndNullDiffer() throws {
        let file = URL(fileURLWithPath: "/m/config.json")
        func parse(_ json: String) throws -> ModelConfig {
            try ModelConfig(configJSON: Data(json.utf8), file: file)
        }
        // Qwen2Config: absent num_key_value_heads is 32, null means one per attention head.
        #expect(
            try parse(#"{"model_type": "qwen2", "num_attention_heads": 16, "hidden_size": 64}"#).numKeyValueHeads == 32)
        #expect(
            try parse(
                #"{"model_type": "qwen2", "num_attention_heads": 16, "hidden_size": 64, "num_key_value_heads": null}"#
            )
            .numKeyValueHeads == 16)
        // MistralConfig: absent sliding_window is 4096, null is full attention.
        #expect(try parse(#"{"model_type": "mistral"}"#).slidingWindow == 4096)
        #expect(try parse(#"{"model_type": "mistral", "sliding_window": null}"#).slidingWindow == nil)
        // LlamaConfig has no default for num_key_value_heads: one per head.
        #expect(
            try parse(#"{"model_type": "llama", "num_attention_heads": 8, "hidden_size": 64}"#).numKeyValueHeads == 8)
    }

    @Test func requiredKeysWithoutDefaultStillFail() {
        let file = URL(fileURLWithPath: "/m/config.json")
        func message(_ json: String) -> String? {
            errorMessage { _ = try ModelConfig(configJSON: Data(json.utf8), file: file) }
        }
        let noType = message(#"{"text_config": {}}"#)
        #expect(
            noType?.contains("/m/config.json") == true && noType?.contains("missing required key 'model_type'") == true)
        let noFactor = message(#"{"model_type": "llama", "rope_scaling": {"rope_type": "llama3", "factor": 8}}"#)
        #expect(noFactor?.contains("'rope_scaling.low_freq_factor'") == true, "\(noFactor ?? "")")
        let nullSize = message(#"{"model_type": "gemma3", "text_config": {"hidden_size": null}}"#)
        #expect(nullSize?.contains("'text_config.hidden_size'") == true, "\(nullSize ?? "")")
        let nullPattern = message(#"{"model_type": "gemma3_text", "sliding_window_pattern": null}"#)
        #expect(nullPattern?.contains("'sliding_window_pattern' is null") == true, "\(nullPattern ?? "")")
    }
}
