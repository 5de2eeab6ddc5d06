import LEMEngine
import LEMFormats

/// Tiny randomly initialised checkpoints (HF tensor names) for cache and consistency tests.
enum RandomModels {
    static func config(_ type: String, sliding: Bool) -> ModelConfig {
        let layers = 3
        let kinds: [ModelConfig.LayerKind] =
            sliding
            ? [.slidingAttention, .fullAttention, .slidingAttention] : Array(repeating: .fullAttention, count: layers)
        return ModelConfig(
            modelType: type, hiddenSize: 16, intermediateSize: 24, numHiddenLayers: layers, numAttentionHeads: 4,
            numKeyValueHeads: 2, headDim: 8, vocabSize: 40, rmsNormEps: 1e-6, ropeTheta: 10_000,
            ropeLocalTheta: type.hasPrefix("gemma") ? 100 : nil, maxPositionEmbeddings: 64,
            slidingWindow: sliding ? 4 : nil, layerTypes: kinds,
            queryPreAttnScalar: type.hasPrefix("gemma") ? 6 : nil,
            finalLogitSoftcapping: type.hasPrefix("gemma") ? 5 : nil,
            tieWordEmbeddings: true,
            hiddenActivation: type.hasPrefix("gemma") ? "gelu_pytorch_tanh" : "silu")
    }

    static func tensors(for config: ModelConfig, seed: UInt64) -> [String: any WeightTensor] {
        var rng = Xoshiro256(seed: seed)
        var t = [String: any WeightTensor]()
        let c = config.hiddenSize
        let f = config.intermediateSize
        let d = config.headDim
        let q = config.numAttentionHeads * d
        let kv = config.numKeyValueHeads * d
        func add(_ name: String, _ shape: [Int], scale: Float = 0.3) {
            t[name] = ArrayTensor.random(name, shape, scale: scale, rng: &rng)
        }
        add("model.embed_tokens.weight", [config.vocabSize, c], scale: 1)
        add("model.norm.weight", [c])
        let gemma = config.modelType.hasPrefix("gemma")
        for i in 0..<config.numHiddenLayers {
            let p = "model.layers.\(i)."
            add(p + "input_layernorm.weight", [c])
            add(p + "post_attention_layernorm.weight", [c])
            add(p + "self_attn.q_proj.weight", [q, c])
            add(p + "self_attn.k_proj.weight", [kv, c])
            add(p + "self_attn.v_proj.weight", [kv, c])
            add(p + "self_attn.o_proj.weight", [c, q])
            add(p + "mlp.gate_proj.weight", [f, c])
            add(p + "mlp.up_proj.weight", [f, c])
            add(p + "mlp.down_proj.weight", [c, f])
            if config.modelType == "qwen2" {
                add(p + "self_attn.q_proj.bias", [q])
                add(p + "self_attn.k_proj.bias", [kv])
                add(p + "self_attn.v_proj.bias", [kv])
            }
            if gemma {
                add(p + "pre_feedforward_layernorm.weight", [c])
                add(p + "post_feedforward_layernorm.weight", [c])
                add(p + "self_attn.q_norm.weight", [d])
                add(p + "self_attn.k_norm.weight", [d])
            }
        }
        return t
    }

    static func model(_ type: String, sliding: Bool, seed: UInt64 = 7) throws -> any LanguageModel {
        let config = config(type, sliding: sliding)
        return try ModelFactory.makeModel(
            config: config, tensors: tensors(for: config, seed: seed), source: "random \(type)")
    }
}
