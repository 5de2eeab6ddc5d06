import LEMFormats

/// GPT-OSS (`gpt_oss`) exactly as transformers' `GptOssModel` + `GptOssForCausalLM` compute it.
///
/// - Per layer: `x += o(attn(n))` with `n = rmsNorm(x)`, then `x += moe(rmsNorm(x))`; a final
///   RMSNorm and an untied output head.
/// - Attention: q/k/v/o all biased, grouped-query heads, scale `head_dim^-0.5`, a learned sink
///   logit per head (`self_attn.sinks`) that joins each softmax's denominator only; layers
///   alternate sliding (`sliding_window`) and full attention per `layer_types`.
/// - RoPE: YaRN (`rope_parameters` type yarn; `Kernels.ropeInverseFrequencies`), with its
///   attention factor multiplied into cos and sin as transformers does.
/// - Feed-forward: `MixtureOfExperts` (biased router, top-k softmax, clamped SwiGLU experts).
public enum GptOss {
    /// Builds the model from HF-named tensors (experts split by `GptOssExperts`), checking every
    /// shape against `config`.
    public static func load(config: ModelConfig, loader: WeightLoader) throws -> any LanguageModel {
        try ModelFactory.checkShapes(config, source: loader.source)
        guard let moe = config.experts, moe.count > 0, (1...moe.count).contains(moe.perToken) else {
            throw ModelError.badConfig(
                "num_experts_per_tok must be from 1 to num_local_experts (a mixture-of-experts model)",
                source: loader.source)
        }
        let scale = 1 / Float(config.headDim).squareRoot()  // matches transformers GptOssAttention: head_dim^-0.5
        let layers = try (0..<config.numHiddenLayers).map { i in
            try PreNormLayer(
                loader, layer: i, config: config,
                attention: try AttentionBlock(
                    loader, layer: i, config: config, bias: config.attentionBias, outputBias: config.attentionBias,
                    sinks: true, scale: scale),
                feedForward: try MixtureOfExperts(loader, layer: i, config: config))
        }
        return try PreNormDecoder(
            config: config, loader: loader, layers: layers,
            inverseFrequencies: Kernels.ropeInverseFrequencies(
                headDim: config.headDim, base: config.ropeTheta, scaling: config.ropeScaling),
            attentionFactor: Float(config.ropeScaling.attentionFactor))
    }
}
