import Foundation
import LEMEngine
import LEMFormats

extension ModelFuser {
    /// Writes `config.json`: the base's own (minus `quantization` when the weights were
    /// dequantized) for a text-only directory base, else one generated from the parsed config.
    static func writeConfig(files: ModelFiles, quantizedOutput: Bool, into dir: URL) throws {
        let url = dir.appendingPathComponent("config.json")
        if files.format != .gguf,
            let data = FileManager.default.contents(atPath: files.url.appendingPathComponent("config.json").path),
            var object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
            object["text_config"] == nil
        {
            if !quantizedOutput {
                object["quantization"] = nil
                object["quantization_config"] = nil
            }
            try writeJSON(object, to: url)
            return
        }
        try writeJSON(configJSON(files.config), to: url)
    }

    /// A Hugging Face `config.json` for `c` that transformers, mlx_lm and our reader all accept
    /// (Gemma 3 gets both transformers 5's `rope_parameters` and the older keys mlx_lm reads).
    static func configJSON(_ c: ModelConfig) -> [String: Any] {
        var o: [String: Any] = [
            "hidden_size": c.hiddenSize, "intermediate_size": c.intermediateSize,
            "num_hidden_layers": c.numHiddenLayers,
            "num_attention_heads": c.numAttentionHeads, "num_key_value_heads": c.numKeyValueHeads,
            "head_dim": c.headDim,
            "vocab_size": c.vocabSize, "rms_norm_eps": c.rmsNormEps, "max_position_embeddings": c.maxPositionEmbeddings,
            "tie_word_embeddings": c.tieWordEmbeddings, "rope_theta": c.ropeTheta,
            "rope_scaling": ropeScaling(c.ropeScaling),
            "torch_dtype": "float32", "dtype": "float32"
        ]
        if let bos = c.bosTokenId { o["bos_token_id"] = bos }
        if let pad = c.padTokenId { o["pad_token_id"] = pad }
        if !c.eosTokenIds.isEmpty {
            o["eos_token_id"] = c.eosTokenIds.count == 1 ? c.eosTokenIds[0] as Any : c.eosTokenIds.sorted() as Any
        }
        switch c.modelType {
        case "gemma3_text", "gemma3":
            o["model_type"] = "gemma3_text"
            o["architectures"] = ["Gemma3ForCausalLM"]
            o["hidden_activation"] = c.hiddenActivation
            o["query_pre_attn_scalar"] = c.queryPreAttnScalar ?? Double(c.headDim)
            o["sliding_window"] = c.slidingWindow ?? NSNull()
            o["layer_types"] = c.layerTypes.map(\.rawValue)
            let local = c.ropeLocalTheta ?? c.ropeTheta
            o["rope_local_base_freq"] = local
            var full = ropeScaling(c.ropeScaling) as? [String: Any] ?? ["rope_type": "default"]
            full["rope_theta"] = c.ropeTheta
            var sliding = ropeScaling(c.ropeLocalScaling) as? [String: Any] ?? ["rope_type": "default"]
            sliding["rope_theta"] = local
            o["rope_parameters"] = ["full_attention": full, "sliding_attention": sliding]
            if let period = c.layerTypes.firstIndex(of: .fullAttention) { o["sliding_window_pattern"] = period + 1 }
            o["final_logit_softcapping"] = c.finalLogitSoftcapping ?? NSNull()
            o["attn_logit_softcapping"] = c.attnLogitSoftcapping ?? NSNull()
            o["attention_bias"] = c.attentionBias
        case "qwen2":
            o["model_type"] = "qwen2"
            o["architectures"] = ["Qwen2ForCausalLM"]
            o["hidden_act"] = c.hiddenActivation
            o["use_sliding_window"] = false
        case "mistral":
            o["model_type"] = "mistral"
            o["architectures"] = ["MistralForCausalLM"]
            o["hidden_act"] = c.hiddenActivation
            o["sliding_window"] = c.slidingWindow ?? NSNull()
        default:
            o["model_type"] = "llama"
            o["architectures"] = ["LlamaForCausalLM"]
            o["hidden_act"] = c.hiddenActivation
            o["attention_bias"] = c.attentionBias
            o["mlp_bias"] = false
        }
        return o
    }

    /// transformers' `rope_scaling` object for a scaling, NSNull for none.
    static func ropeScaling(_ s: ModelConfig.RopeScaling) -> Any {
        switch s {
        case .none: return NSNull()
        case .linear(let factor): return ["rope_type": "linear", "factor": factor]
        case .llama3(let factor, let low, let high, let original):
            return [
                "rope_type": "llama3", "factor": factor, "low_freq_factor": low, "high_freq_factor": high,
                "original_max_position_embeddings": original
            ]
        case let .yarn(factor, fast, slow, original, truncate, attention):
            return [
                "rope_type": "yarn", "factor": factor, "beta_fast": fast, "beta_slow": slow,
                "original_max_position_embeddings": original, "truncate": truncate, "attention_factor": attention
            ]
        }
    }

    /// Copies a directory base's tokenizer files; for a GGUF base writes its tokenizer metadata
    /// as a tensor-free `tokenizer.gguf`.
    static func writeTokenizer(files: ModelFiles, into dir: URL) throws -> [String] {
        let fm = FileManager.default
        let sourceDir = files.url
        var written: [String] = []
        // A GGUF's own metadata is its tokenizer; files that merely sit beside it may not match.
        let candidates = files.format == .gguf ? [] : tokenizerFiles
        for name in candidates where fm.fileExists(atPath: sourceDir.appendingPathComponent(name).path) {
            do {
                try fm.copyItem(at: sourceDir.appendingPathComponent(name), to: dir.appendingPathComponent(name))
            } catch {
                throw FormatError(
                    sourceDir.appendingPathComponent(name),
                    "cannot copy into the fused model: \(error.localizedDescription)")
            }
            written.append(name)
        }
        if let gguf = files.gguf {
            let keys = gguf.metadataKeys.filter {
                $0.hasPrefix("tokenizer.") || $0 == "general.architecture" || $0 == "general.name"
            }
            try GGUFMetadataWriter.write(
                keys.map { ($0, gguf.metadata[$0]!) }, to: dir.appendingPathComponent("tokenizer.gguf"))
            written.append("tokenizer.gguf")
        }
        return written
    }
}
