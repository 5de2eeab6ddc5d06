import Foundation

/// Reading GGUF metadata into `ModelConfig`, with llama.cpp's conventions where GGUF is silent.
///
/// Architectures: `llama` (also SmolLM2 and Mistral conversions), `qwen2`, `gemma3`, `gpt-oss`.
/// GPT-OSS follows llama.cpp's `llama_model_openai_moe` (sliding pattern 2: even layers slide)
/// and transformers' YaRN (`truncate` false, as GptOssConfig; llama.cpp's ggml YaRN truncates the
/// correction range) with the SwiGLU constants GGUF does not store (alpha 1.702, limit 7). For Gemma 3
/// llama.cpp hard-codes what the metadata omits, and this follows it: local (sliding) RoPE base
/// 10 000, the pattern of 5 sliding layers then 1 full, and attention scale `headDim^-0.5`
/// (`queryPreAttnScalar = headDim`).
extension ModelConfig {
    /// GGUF `general.architecture` values this module maps, and the `model_type` each becomes.
    public static let ggufArchitectures = [
        "llama": "llama", "qwen2": "qwen2", "gemma3": "gemma3_text", "gpt-oss": "gpt_oss"
    ]

    /// Builds the configuration from `gguf`'s metadata and tensor directory.
    public init(gguf: GGUFFile) throws {
        let url = gguf.url
        guard let arch = gguf.architecture else {
            throw FormatError(url, "missing metadata key 'general.architecture'")
        }
        guard let modelType = Self.ggufArchitectures[arch] else {
            throw FormatError(
                url,
                "unsupported architecture '\(arch)' (supported: \(Self.ggufArchitectures.keys.sorted().joined(separator: ", ")))"
            )
        }
        func value(_ key: String) -> GGUFValue? { gguf.metadata["\(arch).\(key)"] }
        func int(_ key: String) throws -> Int? {
            guard let v = value(key) else { return nil }
            guard let i = v.int else {
                throw FormatError(url, "metadata '\(arch).\(key)' is \(v.summary), expected a single integer")
            }
            return i
        }
        func required(_ key: String) throws -> Int {
            guard let i = try int(key) else { throw FormatError(url, "missing metadata key '\(arch).\(key)'") }
            return i
        }
        func double(_ key: String) throws -> Double? {
            guard let v = value(key) else { return nil }
            guard let d = v.double else {
                throw FormatError(url, "metadata '\(arch).\(key)' is \(v.summary), expected a number")
            }
            return d
        }
        let isGemma = modelType == "gemma3_text"
        let isGptOss = modelType == "gpt_oss"
        let hidden = try required("embedding_length")
        let layers = try required("block_count")
        let intermediate = try int("expert_feed_forward_length") ?? required("feed_forward_length")
        let heads = try required("attention.head_count")
        guard heads > 0, layers > 0, hidden > 0 else {
            throw FormatError(url, "embedding_length, block_count and attention.head_count must be positive")
        }
        guard layers <= Self.maxLayers else {
            throw FormatError(url, "metadata '\(arch).block_count' is \(layers), expected at most \(Self.maxLayers)")
        }
        let kvHeads = try int("attention.head_count_kv") ?? heads
        let headDim = try int("attention.key_length") ?? hidden / heads
        let eps = try double("attention.layer_norm_rms_epsilon") ?? 1e-5
        let maxPos = try int("context_length") ?? 2048
        let theta = try double("rope.freq_base") ?? 10_000

        var scaling = RopeScaling.none
        if let type = value("rope.scaling.type")?.string, type == "yarn", isGptOss {
            guard let factor = try double("rope.scaling.factor"),
                let original = try int("rope.scaling.original_context_length")
            else {
                throw FormatError(
                    url,
                    "yarn RoPE needs metadata '\(arch).rope.scaling.factor' and '\(arch).rope.scaling.original_context_length'"
                )
            }
            scaling = .yarn(
                factor: factor, betaFast: try double("rope.scaling.yarn_beta_fast") ?? 32,
                betaSlow: try double("rope.scaling.yarn_beta_slow") ?? 1, originalMaxPositions: original,
                truncate: false, attentionFactor: factor <= 1 ? 1 : 0.1 * Foundation.log(factor) + 1)
        } else if let type = value("rope.scaling.type")?.string, type != "none" {
            guard type == "linear" else {
                throw FormatError(
                    url, "metadata '\(arch).rope.scaling.type' is '\(type)': only linear RoPE scaling is supported")
            }
            let factor = try double("rope.scaling.factor") ?? 1
            if factor != 1 { scaling = .linear(factor: factor) }
        } else if let factor = try double("rope.scale_linear"), factor != 1 {
            scaling = .linear(factor: factor)
        }

        var window: Int? = nil
        var kinds = [LayerKind](repeating: .fullAttention, count: layers)
        if isGemma || isGptOss {
            window = try int("attention.sliding_window") ?? (isGemma ? 4096 : 128)
            if let flags = value("attention.sliding_window_pattern")?.array {
                // Newer converters may store one flag per layer (true = sliding).
                guard flags.count == layers, flags.allSatisfy({ $0.bool != nil }) else {
                    throw FormatError(
                        url,
                        "metadata '\(arch).attention.sliding_window_pattern' must have one bool per layer (\(layers))")
                }
                kinds = flags.map { $0.bool == true ? .slidingAttention : .fullAttention }
            } else {
                // llama.cpp's defaults: Gemma 3 5 sliding layers then 1 full, GPT-OSS alternating.
                let pattern = try int("attention.sliding_window_pattern") ?? (isGemma ? 6 : 2)
                kinds = (0..<layers).map { pattern > 0 && ($0 + 1) % pattern != 0 ? .slidingAttention : .fullAttention }
            }
        }

        let tensorNames = Set(gguf.tensorInfos.map(\.name))
        let vocabKey = try int("vocab_size")
        var vocab = gguf.metadata["tokenizer.ggml.tokens"]?.array?.count ?? vocabKey
        if vocab == nil, let embd = gguf.tensorInfos.first(where: { $0.name == "token_embd.weight" }),
            embd.ne.count == 2
        {
            vocab = embd.ne[1]
        }
        guard let vocab else {
            throw FormatError(url, "cannot tell the vocabulary size: no tokenizer.ggml.tokens nor token_embd.weight")
        }

        var eos: [Int] = []
        for key in ["tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"] {
            if let id = gguf.int(key), !eos.contains(id) { eos.append(id) }
        }

        self.init(
            modelType: modelType, hiddenSize: hidden, intermediateSize: intermediate, numHiddenLayers: layers,
            numAttentionHeads: heads, numKeyValueHeads: kvHeads, headDim: headDim, vocabSize: vocab, rmsNormEps: eps,
            ropeTheta: theta, ropeLocalTheta: isGemma ? 10_000 : nil, ropeScaling: scaling, ropeLocalScaling: .none,
            maxPositionEmbeddings: maxPos, slidingWindow: window, layerTypes: kinds,
            queryPreAttnScalar: isGemma ? Double(headDim) : nil,
            finalLogitSoftcapping: try double("final_logit_softcapping"),
            attnLogitSoftcapping: try double("attn_logit_softcapping"),
            tieWordEmbeddings: !tensorNames.contains("output.weight"),
            hiddenActivation: isGemma ? "gelu_pytorch_tanh" : "silu",
            attentionBias: modelType == "qwen2" || tensorNames.contains("blk.0.attn_q.bias"),
            bosTokenId: gguf.int("tokenizer.ggml.bos_token_id"), eosTokenIds: eos,
            padTokenId: gguf.int("tokenizer.ggml.padding_token_id"), quantization: nil)
        if isGptOss {
            guard let count = try int("expert_count"), let used = try int("expert_used_count") else {
                throw FormatError(url, "missing metadata key '\(arch).expert_count' or '\(arch).expert_used_count'")
            }
            experts = Experts(count: count, perToken: used, swigluAlpha: 1.702, swigluLimit: 7)
        }
        try validate(file: url) { field in
            switch field {
            case .hidden: return "metadata '\(arch).embedding_length'"
            case .intermediate: return "metadata '\(arch).feed_forward_length'"
            case .layers: return "metadata '\(arch).block_count'"
            case .heads: return "metadata '\(arch).attention.head_count'"
            case .kvHeads: return "metadata '\(arch).attention.head_count_kv'"
            case .headDim, .queryPreAttnScalar: return "metadata '\(arch).attention.key_length'"
            case .vocab: return "the vocabulary size (tokenizer.ggml.tokens, \(arch).vocab_size or token_embd.weight)"
            case .maxPositions: return "metadata '\(arch).context_length'"
            case .slidingWindow: return "metadata '\(arch).attention.sliding_window'"
            case .rmsNormEps: return "metadata '\(arch).attention.layer_norm_rms_epsilon'"
            case .ropeTheta: return "metadata '\(arch).rope.freq_base'"
            case .ropeLocalTheta: return "the local RoPE base"
            case .finalSoftcap: return "metadata '\(arch).final_logit_softcapping'"
            case .attnSoftcap: return "metadata '\(arch).attn_logit_softcapping'"
            case .experts: return "metadata '\(arch).expert_count'"
            case .expertsPerToken: return "metadata '\(arch).expert_used_count'"
            case .swiglu: return "the SwiGLU limit"
            }
        }
    }
}
