import LEMFormats

/// The Llama decoder (Llama 2/3.x, Mistral, SmolLM2; Qwen2 adds q/k/v biases) as transformers'
/// `LlamaModel` + `LlamaForCausalLM` compute it.
///
/// Per layer: `x += o(attn(rope(q(n)), rope(k(n)), v(n)))` with `n = rmsNorm(x)`, then
/// `x += down(silu(gate(n')) * up(n'))` with `n' = rmsNorm(x)`; a final RMSNorm and the output
/// head (tied to the embedding when the checkpoint says so). Attention scale is `headDim^-0.5`;
/// RoPE uses `rope_theta` with the configured scaling (llama3 or linear).
public enum Llama {
    /// Builds the model from HF-named tensors, checking every shape against `config`.
    ///
    /// `attentionBias` forces q/k/v biases on (Qwen2); otherwise `config.attentionBias` decides.
    public static func load(
        config: ModelConfig, loader: WeightLoader, attentionBias: Bool? = nil
    ) throws -> any LanguageModel {
        let activation = try GatedMLP.activation(config, source: loader.source)
        try ModelFactory.checkShapes(config, source: loader.source)
        let scale = 1 / Float(config.headDim).squareRoot()  // matches transformers LlamaAttention: head_dim^-0.5
        let layers = try (0..<config.numHiddenLayers).map { i in
            try PreNormLayer(
                loader, layer: i, config: config,
                attention: try AttentionBlock(
                    loader, layer: i, config: config, bias: attentionBias ?? config.attentionBias, scale: scale),
                feedForward: try GatedMLP(loader, layer: i, config: config, activation: activation))
        }
        var inverse = Kernels.ropeInverseFrequencies(
            headDim: config.headDim, base: config.ropeTheta, scaling: config.ropeScaling)
        // llama.cpp's GGUFs carry llama3 scaling as per-frequency divisors (`rope_freqs.weight`,
        // θ_i / factor_i) instead of config values; apply them unless the config already scales.
        if config.ropeScaling == .none, loader.tensors["rope_freqs.weight"] != nil {
            let factors = try loader.vector("rope_freqs.weight", count: config.headDim / 2)
            inverse = zip(inverse, factors).map { $0 / $1 }
        }
        return try PreNormDecoder(config: config, loader: loader, layers: layers, inverseFrequencies: inverse)
    }
}
