import Foundation
import LEMCore

/// Reading `config.json` (Hugging Face / MLX) into `ModelConfig`.
///
/// Supported `model_type`s: `gemma3_text`, `gemma3` (the text part under `text_config`), `llama`,
/// `mistral`, `qwen2`. Both transformers-5 keys (`rope_parameters`, `layer_types`) and the older
/// ones (`rope_theta`, `rope_local_base_freq`, `rope_scaling`, `sliding_window_pattern`) are read.
/// Keys a config may omit take the defaults of transformers' config classes (Gemma3TextConfig,
/// LlamaConfig, MistralConfig, Qwen2Config); the sizes that define a model (`hidden_size`,
/// `intermediate_size`, `num_hidden_layers`, `num_attention_heads`, `vocab_size`) are required.
extension ModelConfig {
    /// The `model_type`s this module can map.
    public static let supportedModelTypes = ["gemma3_text", "gemma3", "llama", "mistral", "qwen2"]

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
        var reader = ConfigReader(file: file, keys: root, prefix: "")
        let topType = try reader.requiredString("model_type")
        var modelType = topType
        if topType == "gemma3" {
            // Multimodal Gemma 3: the language model's settings live under text_config.
            guard case .object(let text) = root["text_config"] ?? .null else {
                throw FormatError(file, "model_type 'gemma3' needs an object 'text_config'")
            }
            // Token ids, tying and quantization may be stated at the top level only.
            var merged = text
            for key in ["eos_token_id", "bos_token_id", "pad_token_id", "tie_word_embeddings", "quantization"]
            where merged[key] == nil {
                if let v = root[key] { merged[key] = v }
            }
            reader = ConfigReader(file: file, keys: merged, prefix: "text_config.")
            modelType = "gemma3_text"
        }
        guard ["gemma3_text", "llama", "mistral", "qwen2"].contains(modelType) else {
            throw FormatError(
                file,
                "unsupported model_type '\(topType)' (supported: \(Self.supportedModelTypes.joined(separator: ", ")))")
        }
        let d = ArchitectureDefaults(modelType)

        let hidden = try reader.requiredInt("hidden_size")
        let intermediate = try reader.requiredInt("intermediate_size")
        let layers = try reader.requiredInt("num_hidden_layers")
        let heads = try reader.requiredInt("num_attention_heads")
        let vocab = try reader.requiredInt("vocab_size")
        guard heads > 0, layers > 0, hidden > 0 else {
            throw FormatError(file, "hidden_size, num_hidden_layers and num_attention_heads must be positive")
        }
        guard layers <= Self.maxLayers else {
            throw FormatError(file, "key '\(reader.prefix)num_hidden_layers' is \(layers), expected at most \(Self.maxLayers)")
        }
        let kvHeads = try reader.int("num_key_value_heads") ?? d.kvHeads ?? heads
        let headDim = try reader.int("head_dim") ?? d.headDim ?? hidden / heads
        let eps = try reader.double("rms_norm_eps") ?? d.rmsNormEps
        let maxPos = try reader.int("max_position_embeddings") ?? d.maxPositions
        let tie = try reader.bool("tie_word_embeddings") ?? d.tieWordEmbeddings
        let act = try reader.string("hidden_activation") ?? reader.string("hidden_act") ?? d.activation
        let attentionBias = modelType == "qwen2" ? true : (try reader.bool("attention_bias") ?? false)

        // RoPE: transformers 5 `rope_parameters` (flat, or per layer type), else the older keys.
        var theta = d.ropeTheta
        var localTheta: Double? = d.ropeLocalTheta
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
        } else {
            theta = try reader.double("rope_theta") ?? theta
            if modelType == "gemma3_text" { localTheta = try reader.double("rope_local_base_freq") ?? localTheta }
            if let rs = reader.keys["rope_scaling"], !rs.isNull {
                scaling = try reader.ropeParameters(rs, key: "rope_scaling").scaling
            }
        }

        // Sliding windows and the per-layer attention kinds.
        var window: Int? = nil
        var kinds: [LayerKind]
        switch modelType {
        case "gemma3_text":
            window = try reader.int("sliding_window") ?? 4096
            let pattern = try reader.int("sliding_window_pattern") ?? reader.int("_sliding_window_pattern") ?? 6
            kinds = (0 ..< layers).map { pattern > 0 && ($0 + 1) % pattern != 0 ? .slidingAttention : .fullAttention }
        case "mistral":
            window = reader.keys["sliding_window"] == nil ? 4096 : try reader.int("sliding_window")
            kinds = Array(repeating: window == nil ? .fullAttention : .slidingAttention, count: layers)
        case "qwen2":
            let use = try reader.bool("use_sliding_window") ?? false
            window = use ? (try reader.int("sliding_window") ?? 4096) : nil
            let maxWindowLayers = try reader.int("max_window_layers") ?? 28
            kinds = (0 ..< layers).map { window != nil && $0 >= maxWindowLayers ? .slidingAttention : .fullAttention }
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

        var eos = try reader.tokenIds("eos_token_id") ?? d.eos
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
            queryPreAttnScalar: modelType == "gemma3_text" ? (try reader.double("query_pre_attn_scalar") ?? 256) : nil,
            finalLogitSoftcapping: try reader.double("final_logit_softcapping"),
            attnLogitSoftcapping: try reader.double("attn_logit_softcapping"),
            tieWordEmbeddings: tie, hiddenActivation: act, attentionBias: attentionBias,
            bosTokenId: reader.keys["bos_token_id"] == nil ? d.bos : try reader.int("bos_token_id"),
            eosTokenIds: eos,
            padTokenId: reader.keys["pad_token_id"] == nil ? d.pad : try reader.int("pad_token_id"),
            quantization: try reader.quantization())
        self.quantizationOverrides = try reader.quantizationOverrides()
        let prefix = reader.prefix
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
            }
            return "key '\(prefix)\(name)'"
        }
    }
}

/// transformers' defaults for keys a config may omit, per architecture.
private struct ArchitectureDefaults {
    var kvHeads: Int?  // nil: same as attention heads
    var headDim: Int?  // nil: hidden / heads
    var rmsNormEps = 1e-6
    var maxPositions: Int
    var tieWordEmbeddings = false
    var activation = "silu"
    var ropeTheta = 10_000.0
    var ropeLocalTheta: Double? = nil
    var bos: Int?
    var eos: [Int]
    var pad: Int? = nil

    init(_ modelType: String) {
        switch modelType {
        case "gemma3_text":  // Gemma3TextConfig
            kvHeads = 4; headDim = 256; maxPositions = 131_072; tieWordEmbeddings = true
            activation = "gelu_pytorch_tanh"; ropeTheta = 1_000_000; ropeLocalTheta = 10_000
            bos = 2; eos = [1]; pad = 0
        case "mistral":  // MistralConfig
            kvHeads = 8; maxPositions = 4096 * 32; bos = 1; eos = [2]
        case "qwen2":  // Qwen2Config
            maxPositions = 32_768; bos = nil; eos = []
        default:  // LlamaConfig
            maxPositions = 2048; bos = 1; eos = [2]
        }
    }
}
