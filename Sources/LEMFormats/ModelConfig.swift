/// The architecture hyper-parameters every model file format is mapped onto.
///
/// `config.json` (Hugging Face / MLX) and GGUF metadata both produce this one value, so an
/// architecture reads its settings from a single place whatever the file was.
public struct ModelConfig: Sendable, Equatable, Codable {
    /// Whether a layer attends within a sliding window or over the whole sequence.
    public enum LayerKind: String, Sendable, Codable, Equatable {
        case slidingAttention = "sliding_attention"
        case fullAttention = "full_attention"
    }

    /// How rotary position frequencies are rescaled for long contexts.
    public enum RopeScaling: Sendable, Equatable, Codable {
        case none
        /// Positions divided by `factor` (Gemma 3 4B+ global layers).
        case linear(factor: Double)
        /// Llama 3.x wavelength-dependent scaling.
        case llama3(factor: Double, lowFreqFactor: Double, highFreqFactor: Double, originalMaxPositions: Int)
        /// YaRN (GPT-OSS): frequencies blended between interpolated and extrapolated by a ramp
        /// over `betaFast ... betaSlow` rotations in `originalMaxPositions`, and cos/sin multiplied
        /// by `attentionFactor` (transformers `_compute_yarn_parameters`).
        case yarn(
            factor: Double, betaFast: Double, betaSlow: Double, originalMaxPositions: Int, truncate: Bool,
            attentionFactor: Double)

        /// What cos and sin are multiplied by: YaRN's attention factor, else 1.
        public var attentionFactor: Double {
            if case .yarn(_, _, _, _, _, let factor) = self { return factor }
            return 1
        }
    }

    /// A mixture-of-experts feed-forward's settings (GPT-OSS `GptOssConfig`).
    public struct Experts: Sendable, Equatable, Codable {
        /// `num_local_experts` (E).
        public var count: Int
        /// `num_experts_per_tok` (k).
        public var perToken: Int
        /// `swiglu_alpha`: the sigmoid gain of the clamped SwiGLU.
        public var swigluAlpha: Double
        /// `swiglu_limit`: the clamp of gate (above) and up (both sides).
        public var swigluLimit: Double
        public init(count: Int, perToken: Int, swigluAlpha: Double, swigluLimit: Double) {
            self.count = count
            self.perToken = perToken
            self.swigluAlpha = swigluAlpha
            self.swigluLimit = swigluLimit
        }
    }

    /// Affine group quantization as MLX stores it (`quantization: {group_size, bits}`).
    public struct Quantization: Sendable, Equatable, Codable {
        /// mlx's affine defaults, taken by an entry whose `group_size` or `bits` is null.
        public static let mlxDefaultGroupSize = 64
        public static let mlxDefaultBits = 4
        public var groupSize: Int
        public var bits: Int
        public init(groupSize: Int, bits: Int) {
            self.groupSize = groupSize
            self.bits = bits
        }
    }

    /// `model_type`: `gemma3_text`, `llama`, `mistral`, `qwen2`, `gpt_oss`.
    public var modelType: String
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var numKeyValueHeads: Int
    public var headDim: Int
    public var vocabSize: Int
    public var rmsNormEps: Double
    /// RoPE base for full-attention (global) layers, and for every layer of non-Gemma models.
    public var ropeTheta: Double
    /// RoPE base for sliding-window (local) layers; Gemma 3 uses 10 000 here.
    public var ropeLocalTheta: Double?
    /// Scaling applied to the global RoPE frequencies.
    public var ropeScaling: RopeScaling
    /// Scaling applied to the local RoPE frequencies (normally none).
    public var ropeLocalScaling: RopeScaling
    public var maxPositionEmbeddings: Int
    /// Window size of sliding layers, nil when the model has none.
    public var slidingWindow: Int?
    /// One entry per layer.
    public var layerTypes: [LayerKind]
    /// Gemma's attention scale is `queryPreAttnScalar^-0.5`; nil means `headDim^-0.5`.
    public var queryPreAttnScalar: Double?
    public var finalLogitSoftcapping: Double?
    public var attnLogitSoftcapping: Double?
    public var tieWordEmbeddings: Bool
    /// `hidden_act` / `hidden_activation`: `gelu_pytorch_tanh`, `silu`, ...
    public var hiddenActivation: String
    /// Whether q/k/v projections carry biases (Qwen2).
    public var attentionBias: Bool
    public var bosTokenId: Int?
    public var eosTokenIds: [Int]
    public var padTokenId: Int?
    /// MLX quantization parameters, nil for unquantized or GGUF models.
    public var quantization: Quantization?
    /// MLX per-module quantization overrides (`quantization: {"model.layers.0.mlp.down_proj":
    /// {group_size, bits}}`), keyed by module path; nil when the config has none.
    public var quantizationOverrides: [String: Quantization]? = nil
    /// The feed-forward's experts (GPT-OSS), nil for a dense gated MLP.
    public var experts: Experts? = nil

    public init(
        modelType: String, hiddenSize: Int, intermediateSize: Int, numHiddenLayers: Int,
        numAttentionHeads: Int, numKeyValueHeads: Int, headDim: Int, vocabSize: Int,
        rmsNormEps: Double, ropeTheta: Double, ropeLocalTheta: Double? = nil,
        ropeScaling: RopeScaling = .none, ropeLocalScaling: RopeScaling = .none,
        maxPositionEmbeddings: Int, slidingWindow: Int? = nil, layerTypes: [LayerKind]? = nil,
        queryPreAttnScalar: Double? = nil, finalLogitSoftcapping: Double? = nil,
        attnLogitSoftcapping: Double? = nil, tieWordEmbeddings: Bool, hiddenActivation: String,
        attentionBias: Bool = false, bosTokenId: Int? = nil, eosTokenIds: [Int] = [],
        padTokenId: Int? = nil, quantization: Quantization? = nil
    ) {
        self.modelType = modelType
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.numKeyValueHeads = numKeyValueHeads
        self.headDim = headDim
        self.vocabSize = vocabSize
        self.rmsNormEps = rmsNormEps
        self.ropeTheta = ropeTheta
        self.ropeLocalTheta = ropeLocalTheta
        self.ropeScaling = ropeScaling
        self.ropeLocalScaling = ropeLocalScaling
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.slidingWindow = slidingWindow
        self.layerTypes = layerTypes ?? Array(repeating: .fullAttention, count: numHiddenLayers)
        self.queryPreAttnScalar = queryPreAttnScalar
        self.finalLogitSoftcapping = finalLogitSoftcapping
        self.attnLogitSoftcapping = attnLogitSoftcapping
        self.tieWordEmbeddings = tieWordEmbeddings
        self.hiddenActivation = hiddenActivation
        self.attentionBias = attentionBias
        self.bosTokenId = bosTokenId
        self.eosTokenIds = eosTokenIds
        self.padTokenId = padTokenId
        self.quantization = quantization
    }
}

extension ModelConfig {
    /// Whether layer `index` attends within a sliding window (`layer_types`).
    public func isSliding(layer index: Int) -> Bool {
        layerTypes.indices.contains(index) && layerTypes[index] == .slidingAttention
    }

    /// Layer `index`'s attention window: `slidingWindow` for a sliding layer, nil for a full one.
    public func window(layer index: Int) -> Int? {
        isSliding(layer: index) ? slidingWindow : nil
    }

    /// The parameter count the shapes imply (embeddings, an untied head, attention and gated
    /// MLP projections; norms and biases left out): SmolLM2-135M gives 134.5 M.
    public var parameterEstimate: Int {
        let q = numAttentionHeads * headDim
        let kv = numKeyValueHeads * headDim
        let perLayer = hiddenSize * (2 * q + 2 * kv) + 3 * hiddenSize * intermediateSize * (experts?.count ?? 1)
        return vocabSize * hiddenSize * (tieWordEmbeddings ? 1 : 2) + numHiddenLayers * perLayer
    }
}
