import Foundation
import LEMFormats
import TestSupport
import Testing

@Suite struct ModelConfigTests {
    let file = URL(fileURLWithPath: "/models/x/config.json")

    func parse(_ json: String, generation: String? = nil) throws -> ModelConfig {
        try ModelConfig(configJSON: Data(json.utf8), file: file, generationConfig: generation.map { Data($0.utf8) })
    }

    /// Gemma 3 270M's config.json as published (older key names plus layer_types).
    static let gemma270m = """
        {"_sliding_window_pattern": 6, "architectures": ["Gemma3ForCausalLM"], "attention_bias": false,
         "attn_logit_softcapping": null, "bos_token_id": 2, "eos_token_id": 1, "final_logit_softcapping": null,
         "head_dim": 256, "hidden_activation": "gelu_pytorch_tanh", "hidden_size": 640, "intermediate_size": 2048,
         "layer_types": ["sliding_attention","sliding_attention","sliding_attention","sliding_attention","sliding_attention","full_attention",
           "sliding_attention","sliding_attention","sliding_attention","sliding_attention","sliding_attention","full_attention",
           "sliding_attention","sliding_attention","sliding_attention","sliding_attention","sliding_attention","full_attention"],
         "max_position_embeddings": 32768, "model_type": "gemma3_text", "num_attention_heads": 4,
         "num_hidden_layers": 18, "num_key_value_heads": 1, "pad_token_id": 0, "query_pre_attn_scalar": 256,
         "rms_norm_eps": 1e-06, "rope_local_base_freq": 10000.0, "rope_scaling": null, "rope_theta": 1000000.0,
         "sliding_window": 512, "torch_dtype": "bfloat16", "vocab_size": 262144}
        """

    @Test func gemma3OlderKeys() throws {
        let c = try parse(Self.gemma270m, generation: #"{"eos_token_id": [1, 106], "bos_token_id": 2}"#)
        #expect(c.modelType == "gemma3_text")
        #expect(c.hiddenSize == 640 && c.intermediateSize == 2048 && c.numHiddenLayers == 18)
        #expect(c.numAttentionHeads == 4 && c.numKeyValueHeads == 1 && c.headDim == 256)
        #expect(c.vocabSize == 262_144 && c.rmsNormEps == 1e-6 && c.maxPositionEmbeddings == 32768)
        #expect(c.ropeTheta == 1_000_000 && c.ropeLocalTheta == 10_000 && c.ropeScaling == .none)
        #expect(c.slidingWindow == 512 && c.queryPreAttnScalar == 256)
        #expect(c.layerTypes.filter { $0 == .fullAttention }.count == 3 && c.layerTypes[5] == .fullAttention)
        #expect(c.tieWordEmbeddings && c.hiddenActivation == "gelu_pytorch_tanh")
        #expect(c.bosTokenId == 2 && c.padTokenId == 0 && c.eosTokenIds == [1, 106])
    }

    @Test func gemma3TransformersFiveKeysAndPatternFallback() throws {
        let json = """
            {"model_type": "gemma3_text", "hidden_size": 2560, "intermediate_size": 10240, "num_hidden_layers": 8,
             "num_attention_heads": 8, "num_key_value_heads": 4, "vocab_size": 262208, "sliding_window": 1024,
             "rope_parameters": {"full_attention": {"rope_type": "linear", "factor": 8.0, "rope_theta": 1000000.0},
                                 "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}}}
            """
        let c = try parse(json)
        #expect(c.ropeScaling == .linear(factor: 8) && c.ropeTheta == 1e6 && c.ropeLocalTheta == 1e4)
        #expect(c.ropeLocalScaling == .none)
        // No layer_types: transformers' default pattern 6 → layers 5 is full, the rest sliding.
        #expect(c.layerTypes == (0..<8).map { $0 == 5 ? .fullAttention : .slidingAttention })
        #expect(c.headDim == 256 && c.queryPreAttnScalar == 256 && c.tieWordEmbeddings)
        #expect(c.eosTokenIds == [1] && c.bosTokenId == 2)
    }

    @Test func gemma3OlderRopeScalingAndPattern() throws {
        let json = """
            {"model_type": "gemma3_text", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 4,
             "num_attention_heads": 2, "vocab_size": 100, "sliding_window_pattern": 2,
             "rope_scaling": {"type": "linear", "factor": 8}}
            """
        let c = try parse(json)
        #expect(c.ropeScaling == .linear(factor: 8))
        #expect(c.layerTypes == [.slidingAttention, .fullAttention, .slidingAttention, .fullAttention])
        #expect(c.slidingWindow == 4096 && c.numKeyValueHeads == 4)
    }

    @Test func multimodalGemma3ReadsTextConfig() throws {
        let json = """
            {"model_type": "gemma3", "eos_token_id": [1, 106],
             "text_config": {"model_type": "gemma3_text", "hidden_size": 2560, "intermediate_size": 10240,
               "num_hidden_layers": 34, "num_attention_heads": 8, "num_key_value_heads": 4, "vocab_size": 262208,
               "rope_scaling": {"rope_type": "linear", "factor": 8.0}, "sliding_window": 1024},
             "vision_config": {"hidden_size": 1152}}
            """
        let c = try parse(json)
        #expect(c.modelType == "gemma3_text" && c.hiddenSize == 2560 && c.eosTokenIds == [1, 106])
        let noFactor = errorMessage {
            _ = try parse(#"{"model_type": "gemma3", "text_config": {"rope_scaling": {"rope_type": "linear"}}}"#)
        }
        #expect(noFactor?.contains("'text_config.rope_scaling.factor'") == true, "\(noFactor ?? "")")
    }

    /// SmolLM2-135M-Instruct's config.json.
    @Test func llamaSmolLM2() throws {
        let json = """
            {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "bos_token_id": 1, "eos_token_id": 2,
             "hidden_act": "silu", "hidden_size": 576, "intermediate_size": 1536, "max_position_embeddings": 8192,
             "model_type": "llama", "num_attention_heads": 9, "num_hidden_layers": 30, "num_key_value_heads": 3,
             "pad_token_id": 2, "rms_norm_eps": 1e-05, "rope_scaling": null, "rope_theta": 100000,
             "tie_word_embeddings": true, "vocab_size": 49152}
            """
        let c = try parse(json)
        #expect(c.modelType == "llama" && c.headDim == 64 && c.numKeyValueHeads == 3)
        #expect(c.ropeTheta == 100_000 && c.rmsNormEps == 1e-5 && c.tieWordEmbeddings)
        #expect(c.layerTypes.count == 30 && c.slidingWindow == nil && c.ropeLocalTheta == nil)
        #expect(c.eosTokenIds == [2] && c.padTokenId == 2 && c.queryPreAttnScalar == nil)
    }

    @Test func llamaDefaultsAndLlama3Scaling() throws {
        let json = """
            {"model_type": "llama", "hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": 16,
             "num_attention_heads": 32, "vocab_size": 128256, "eos_token_id": [128001, 128008, 128009],
             "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                              "original_max_position_embeddings": 8192, "rope_type": "llama3"},
             "rope_theta": 500000.0}
            """
        let c = try parse(json)
        #expect(c.ropeScaling == .llama3(factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192))
        #expect(c.numKeyValueHeads == 32 && c.headDim == 64 && !c.tieWordEmbeddings && c.rmsNormEps == 1e-6)
        #expect(c.maxPositionEmbeddings == 2048 && c.hiddenActivation == "silu" && c.bosTokenId == 1)
        #expect(c.eosTokenIds == [128001, 128008, 128009])
        // transformers-5 flat rope_parameters.
        let t5 = """
            {"model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
             "num_attention_heads": 4, "vocab_size": 10, "rope_parameters": {"rope_type": "default", "rope_theta": 100000.0}}
            """
        #expect(try parse(t5).ropeTheta == 100_000)
    }

    @Test func mistralAndQwen2() throws {
        let mistral = """
            {"model_type": "mistral", "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 2,
             "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 32768, "sliding_window": null,
             "rope_theta": 1000000.0}
            """
        let m = try parse(mistral)
        #expect(m.slidingWindow == nil && m.layerTypes == [.fullAttention, .fullAttention] && m.headDim == 128)
        let windowed = try parse(
            #"{"model_type": "mistral", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 1, "num_attention_heads": 4, "vocab_size": 10}"#
        )
        #expect(
            windowed.slidingWindow == 4096 && windowed.layerTypes == [.slidingAttention]
                && windowed.numKeyValueHeads == 8)
        let qwen = """
            {"model_type": "qwen2", "hidden_size": 896, "intermediate_size": 4864, "num_hidden_layers": 24,
             "num_attention_heads": 14, "num_key_value_heads": 2, "vocab_size": 151936, "rope_theta": 1000000.0,
             "rms_norm_eps": 1e-06, "sliding_window": 32768, "use_sliding_window": false, "max_window_layers": 21,
             "tie_word_embeddings": true, "bos_token_id": 151643, "eos_token_id": 151645, "max_position_embeddings": 32768}
            """
        let q = try parse(qwen)
        #expect(q.attentionBias && q.headDim == 64 && q.slidingWindow == nil && q.tieWordEmbeddings)
        #expect(q.eosTokenIds == [151645] && q.layerTypes.allSatisfy { $0 == .fullAttention })
    }

    @Test func errorsNameTheFileAndTheKey() {
        let missing = errorMessage { _ = try parse(#"{"hidden_size": 8, "num_hidden_layers": 1}"#) }
        #expect(
            missing?.contains("/models/x/config.json") == true && missing?.contains("'model_type'") == true,
            "\(missing ?? "")")
        let unknown = errorMessage { _ = try parse(#"{"model_type": "gpt_neox"}"#) }
        #expect(unknown?.contains("config.json") == true && unknown?.contains("'gpt_neox'") == true, "\(unknown ?? "")")
        let wrongType = errorMessage {
            _ = try parse(
                #"{"model_type": "llama", "hidden_size": "big", "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 1, "vocab_size": 4}"#
            )
        }
        #expect(wrongType?.contains("'hidden_size' is a string, expected an integer") == true, "\(wrongType ?? "")")
        let yarn = errorMessage {
            _ = try parse(
                #"{"model_type": "qwen2", "hidden_size": 8, "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 1, "vocab_size": 4, "rope_scaling": {"type": "yarn", "factor": 4}}"#
            )
        }
        #expect(yarn?.contains("original_max_position_embeddings' for yarn") == true, "\(yarn ?? "")")
        let dynamic = errorMessage {
            _ = try parse(
                #"{"model_type": "qwen2", "hidden_size": 8, "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 1, "vocab_size": 4, "rope_scaling": {"type": "dynamic", "factor": 4}}"#
            )
        }
        #expect(dynamic?.contains("'dynamic' is not supported") == true, "\(dynamic ?? "")")
        #expect(errorMessage { _ = try parse("{not json") }?.contains("not valid JSON") == true)
    }

    @Test func mlxQuantizationWithOverrides() throws {
        let json = """
            {"model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 1,
             "num_attention_heads": 4, "vocab_size": 10,
             "quantization": {"group_size": 64, "bits": 4, "model.layers.0.mlp.down_proj": {"group_size": 32, "bits": 8}}}
            """
        let c = try parse(json)
        #expect(c.quantization == ModelConfig.Quantization(groupSize: 64, bits: 4))
        #expect(
            c.quantizationOverrides?["model.layers.0.mlp.down_proj"] == ModelConfig.Quantization(groupSize: 32, bits: 8)
        )
    }

    /// mlx_lm convert --quant-predicate mixed_4_6 (no --q-group-size) writes null group sizes;
    /// mlx reads them as its affine default 64, whatever the top-level entry says.
    @Test func mlxMixedNullGroupSize() throws {
        let json = """
            {"model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 1,
             "num_attention_heads": 4, "vocab_size": 10,
             "quantization": {"group_size": 32, "bits": 4, "mode": "affine",
               "model.layers.0.mlp.down_proj": {"group_size": null, "bits": 6, "mode": "affine"},
               "model.layers.0.self_attn.v_proj": {"bits": 3}}}
            """
        let c = try parse(json)
        #expect(c.quantization == ModelConfig.Quantization(groupSize: 32, bits: 4))
        #expect(
            c.quantizationOverrides?["model.layers.0.mlp.down_proj"] == ModelConfig.Quantization(groupSize: 64, bits: 6)
        )
        #expect(
            c.quantizationOverrides?["model.layers.0.self_attn.v_proj"]
                == ModelConfig.Quantization(groupSize: 64, bits: 3))
        let nullTop = try parse(
            json.replacingOccurrences(of: #""group_size": 32, "bits": 4"#, with: #""group_size": null, "bits": null"#))
        #expect(nullTop.quantization == ModelConfig.Quantization(groupSize: 64, bits: 4))
        let badMode = errorMessage {
            _ = try parse(
                json.replacingOccurrences(of: #""bits": 6, "mode": "affine""#, with: #""bits": 6, "mode": "mxfp4""#))
        }
        #expect(
            badMode?.contains("'quantization.model.layers.0.mlp.down_proj.mode' is 'mxfp4'") == true, "\(badMode ?? "")"
        )
        // The fixture mlx_lm wrote.
        let mixed = try ModelConfig.load(directory: TestPaths.fixture("engine/gemma3_tiny-mixed46"))
        #expect(mixed.quantizationOverrides?.values.allSatisfy { $0.groupSize == 64 } == true)
        #expect(Set(mixed.quantizationOverrides?.values.map(\.bits) ?? []) == [4, 6])
    }
}

/// Configs written by transformers 5.23 (`save_pretrained` of the models loaded from the installed
/// GGUF files, Scripts/fixtures_gguf_hf.py) parse to the same values the GGUF metadata gives.
@Suite struct TransformersWrittenConfigTests {
    @Test func smolLM2() throws {
        let c = try ModelConfig.load(directory: TestPaths.fixture("formats/configs/smollm2"))
        #expect(c.modelType == "llama" && c.hiddenSize == 576 && c.numHiddenLayers == 30 && c.numKeyValueHeads == 3)
        #expect(c.ropeTheta == 100_000 && c.tieWordEmbeddings && c.eosTokenIds == [2] && c.padTokenId == 2)
        // transformers' GGUF quantization_config is not MLX quantization.
        #expect(c.quantization == nil && Float(c.rmsNormEps) == Float(1e-5))
    }

    @Test func gemma3() throws {
        let c = try ModelConfig.load(directory: TestPaths.fixture("formats/configs/gemma3"))
        #expect(c.modelType == "gemma3_text" && c.hiddenSize == 640 && c.numHiddenLayers == 18 && c.headDim == 256)
        #expect(c.ropeTheta == 1_000_000 && c.ropeLocalTheta == 10_000 && c.ropeScaling == .none)
        #expect(c.slidingWindow == 512 && c.layerTypes.filter { $0 == .fullAttention }.count == 3)
        #expect(c.tieWordEmbeddings && c.quantization == nil && Float(c.rmsNormEps) == Float(1e-6))
        #expect(c.eosTokenIds.first == 1 && c.bosTokenId == 2)
    }

    @Test func nonAffineMLXModeIsRefused() {
        let json =
            #"{"model_type": "llama", "hidden_size": 8, "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 1, "vocab_size": 4, "quantization": {"group_size": 32, "bits": 4, "mode": "mxfp4"}}"#
        let m = errorMessage {
            _ = try ModelConfig(configJSON: Data(json.utf8), file: URL(fileURLWithPath: "/m/config.json"))
        }
        #expect(m?.contains("'mxfp4'") == true)
    }
}
