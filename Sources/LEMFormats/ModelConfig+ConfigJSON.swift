import Foundation
import LEMCore

/// Reading `config.json` (Hugging Face / MLX) into `ModelConfig`.
///
/// Supported `model_type`s: `gemma3_text`, `gemma3` (the text part under `text_config`), `llama`,
/// `mistral`, `qwen2`, `gpt_oss`. Both transformers-5 keys (`rope_parameters`, `layer_types`) and the older
/// ones (`rope_theta`, `rope_local_base_freq`, `rope_scaling`, `sliding_window_pattern`) are read.
/// Keys a config leaves out take the defaults of transformers' config class for the type
/// (`ConfigDefaults`: Gemma3TextConfig, LlamaConfig, MistralConfig, Qwen2Config, GptOssConfig), as
/// transformers and mlx_lm do for the short configs transformers 4.x saved.
extension ModelConfig {
    /// The `model_type`s this module can map.
    public static let supportedModelTypes = ["gemma3_text", "gemma3", "llama", "mistral", "qwen2", "gpt_oss"]

    /// Reads `<directory>/config.json` and, when present, `generation_config.json` (for eos ids).
    public static func load(directory: URL) throws -> ModelConfig {
        let configURL = directory.appendingPathComponent("config.json")
        guard let data = FileManager.default.contents(atPath: configURL.path) else {
            throw FormatError(configURL, "cannot read config.json")
        }
        let genURL = directory.appendingPathComponent("generation_config.json")
        let gen = FileManager.default.contents(atPath: genURL.path)
        return try ModelConfig(configJSON: data, file: configURL, generationConfig: gen)
    }

    /// Parses `config.json` bytes; `file` names the source in errors. `generationConfig` (the bytes
    /// of `generation_config.json`) contributes its `eos_token_id`s, listed first.
    public init(configJSON data: Data, file: URL, generationConfig: Data? = nil) throws {
        guard case .object(let root) = try JSONValue.parse(data, file: file) else {
            throw FormatError(file, "expected a JSON object at the top level")
        }
        let topReader = ConfigReader(file: file, keys: root, prefix: "")
        let topType = try topReader.requiredString("model_type")
        var modelType = topType
        var keys = root
        var prefix = ""
        if topType == "gemma3" {
            // Multimodal Gemma 3: the language model's settings live under text_config (absent or
            // null: all of Gemma3TextConfig's defaults, as Gemma3Config does).
            let text = try topReader.object("text_config") ?? [:]
            // Token ids stated at the top level win (transformers' GenerationConfig.from_model_config
            // reads text_config's only where the top level leaves them unset); tying and
            // quantization may be stated at the top level only.
            var merged = text
            for key in ["eos_token_id", "bos_token_id", "pad_token_id"] {
                if let v = root[key], !v.isNull { merged[key] = v }
            }
            for key in ["tie_word_embeddings", "quantization"] where merged[key] == nil {
                if let v = root[key] { merged[key] = v }
            }
            keys = merged
            prefix = "text_config."
            modelType = "gemma3_text"
        }
        guard ["gemma3_text", "llama", "mistral", "qwen2", "gpt_oss"].contains(modelType) else {
            throw FormatError(
                file,
                "unsupported model_type '\(topType)' (supported: \(Self.supportedModelTypes.joined(separator: ", ")))")
        }
        let reader = ConfigReader(
            file: file, keys: keys, prefix: prefix, defaults: ConfigDefaults.table(for: modelType),
            defaultsName: ConfigDefaults.className(for: modelType))

        let hidden = try reader.requiredInt("hidden_size")
        let intermediate = try reader.requiredInt("intermediate_size")
        let layers = try reader.requiredInt("num_hidden_layers")
        let heads = try reader.requiredInt("num_attention_heads")
        let vocab = try reader.requiredInt("vocab_size")
        guard heads > 0, layers > 0, hidden > 0 else {
            throw FormatError(file, "hidden_size, num_hidden_layers and num_attention_heads must be positive")
        }
        guard layers <= Self.maxLayers else {
            throw FormatError(
                file, "key '\(reader.prefix)num_hidden_layers' is \(layers), expected at most \(Self.maxLayers)")
        }
        // transformers: a null (or, for Llama, absent) num_key_value_heads means one per head,
        // a null or absent head_dim hidden_size / num_attention_heads.
        let kvHeads = try reader.int("num_key_value_heads") ?? heads
        let headDim = try reader.int("head_dim") ?? hidden / heads
        let eps = try reader.requiredDouble("rms_norm_eps")
        let maxPos = try reader.requiredInt("max_position_embeddings")
        let tie = try reader.bool("tie_word_embeddings") ?? false
        let act = try reader.string("hidden_activation") ?? reader.requiredString("hidden_act")
        let attentionBias = modelType == "qwen2" ? true : (try reader.bool("attention_bias") ?? false)

        // RoPE: transformers 5 `rope_parameters` (flat, or per layer type) over the older keys.
        var theta = try reader.requiredDouble("rope_theta")
        var localTheta: Double? = modelType == "gemma3_text" ? try reader.requiredDouble("rope_local_base_freq") : nil
        var scaling = RopeScaling.none
        var localScaling = RopeScaling.none
        if let params = try reader.object("rope_parameters") {
            if params["full_attention"] != nil || params["sliding_attention"] != nil {
                if let full = params["full_attention"] {
                    let p = try reader.ropeParameters(full, key: "rope_parameters.full_attention")
                    theta = p.theta ?? theta
                    scaling = p.scaling
                }
                if let local = params["sliding_attention"] {
                    let p = try reader.ropeParameters(local, key: "rope_parameters.sliding_attention")
                    localTheta = p.theta ?? localTheta
                    localScaling = p.scaling
                }
            } else {
                let p = try reader.ropeParameters(.object(params), key: "rope_parameters")
                theta = p.theta ?? theta
                scaling = p.scaling
            }
        } else if let rs = reader.value("rope_scaling"), !rs.isNull {
            scaling = try reader.ropeParameters(rs, key: "rope_scaling").scaling
        }

        // Sliding windows and the per-layer attention kinds.
        var window: Int? = nil
        var kinds: [LayerKind]
        switch modelType {
        case "gemma3_text":
            window = try reader.requiredInt("sliding_window")
            let pattern = try reader.int("_sliding_window_pattern") ?? reader.requiredInt("sliding_window_pattern")
            kinds = (0..<layers).map { pattern > 0 && ($0 + 1) % pattern != 0 ? .slidingAttention : .fullAttention }
        case "mistral":
            window = try reader.int("sliding_window")  // null: full attention everywhere
            kinds = Array(repeating: window == nil ? .fullAttention : .slidingAttention, count: layers)
        case "qwen2":
            let use = try reader.bool("use_sliding_window") ?? false
            window = use ? try reader.requiredInt("sliding_window") : nil
            let maxWindowLayers = try reader.requiredInt("max_window_layers")
            kinds = (0..<layers).map { window != nil && $0 >= maxWindowLayers ? .slidingAttention : .fullAttention }
        case "gpt_oss":
            // GptOssConfig: sliding, full, sliding, ... unless layer_types says otherwise.
            window = try reader.int("sliding_window")
            kinds = (0..<layers).map { $0 % 2 == 0 ? .slidingAttention : .fullAttention }
        default:
            kinds = Array(repeating: .fullAttention, count: layers)
        }
        if let explicit = try reader.array("layer_types") {
            var parsed: [LayerKind] = []
            for (i, v) in explicit.enumerated() {
                guard let s = v.string, let k = LayerKind(rawValue: s) else {
                    throw FormatError(
                        file, "\(reader.prefix)layer_types[\(i)] must be \"sliding_attention\" or \"full_attention\"")
                }
                parsed.append(k)
            }
            guard parsed.count == layers else {
                throw FormatError(
                    file, "\(reader.prefix)layer_types has \(parsed.count) entries but num_hidden_layers is \(layers)")
            }
            kinds = parsed
        }
        if !kinds.contains(.slidingAttention) && modelType != "gemma3_text" { window = nil }

        var eos = try reader.tokenIds("eos_token_id") ?? []
        if let gen = generationConfig {
            let genURL = file.deletingLastPathComponent().appendingPathComponent("generation_config.json")
            guard case .object(let g) = try JSONValue.parse(gen, file: genURL) else {
                throw FormatError(genURL, "expected a JSON object at the top level")
            }
            let genReader = ConfigReader(file: genURL, keys: g, prefix: "")
            if let genEos = try genReader.tokenIds("eos_token_id") {
                eos = genEos + eos.filter { !genEos.contains($0) }
            }
        }

        self.init(
            modelType: modelType, hiddenSize: hidden, intermediateSize: intermediate, numHiddenLayers: layers,
            numAttentionHeads: heads, numKeyValueHeads: kvHeads, headDim: headDim, vocabSize: vocab,
            rmsNormEps: eps, ropeTheta: theta, ropeLocalTheta: modelType == "gemma3_text" ? localTheta : nil,
            ropeScaling: scaling, ropeLocalScaling: localScaling, maxPositionEmbeddings: maxPos,
            slidingWindow: window, layerTypes: kinds,
            queryPreAttnScalar: modelType == "gemma3_text" ? try reader.requiredDouble("query_pre_attn_scalar") : nil,
            finalLogitSoftcapping: try reader.double("final_logit_softcapping"),
            attnLogitSoftcapping: try reader.double("attn_logit_softcapping"),
            tieWordEmbeddings: tie, hiddenActivation: act, attentionBias: attentionBias,
            bosTokenId: try reader.int("bos_token_id"),
            eosTokenIds: eos,
            padTokenId: try reader.int("pad_token_id"),
            quantization: try reader.quantization())
        self.quantizationOverrides = try reader.quantizationOverrides()
        if modelType == "gpt_oss" {
            // `num_experts` is GptOssConfig's alias of `num_local_experts`.
            let count =
                try (reader.keys["num_local_experts"] == nil ? reader.int("num_experts") : nil)
                ?? reader.requiredInt("num_local_experts")
            experts = Experts(
                count: count, perToken: try reader.requiredInt("num_experts_per_tok"),
                swigluAlpha: try reader.requiredDouble("swiglu_alpha"),
                swigluLimit: try reader.requiredDouble("swiglu_limit"))
        }
        try validate(file: file) { field in
            let name: String
            switch field {
            case .hidden: name = "hidden_size"
            case .intermediate: name = "intermediate_size"
            case .layers: name = "num_hidden_layers"
            case .heads: name = "num_attention_heads"
            case .kvHeads: name = "num_key_value_heads"
            case .headDim: name = "head_dim"
            case .vocab: name = "vocab_size"
            case .maxPositions: name = "max_position_embeddings"
            case .slidingWindow: name = "sliding_window"
            case .rmsNormEps: name = "rms_norm_eps"
            case .ropeTheta: name = "rope_theta"
            case .ropeLocalTheta: name = "rope_local_base_freq"
            case .queryPreAttnScalar: name = "query_pre_attn_scalar"
            case .finalSoftcap: name = "final_logit_softcapping"
            case .attnSoftcap: name = "attn_logit_softcapping"
            case .experts: name = "num_local_experts"
            case .expertsPerToken: name = "num_experts_per_tok"
            case .swiglu: name = "swiglu_limit"
            }
            return "key '\(reader.prefix)\(name)'"
        }
    }
}
