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
public final class GptOss: LanguageModel {
    struct Layer: Sendable {
        let inputNorm: RMSNorm  // (C)
        let attention: AttentionBlock
        let postAttentionNorm: RMSNorm  // (C)
        let moe: MixtureOfExperts
    }

    /// The architecture hyper-parameters.
    public let config: ModelConfig
    /// The options the model was built with and runs with.
    public let options: EngineOptions
    let embedding: any WeightTensor  // [V, C]
    let head: OutputHead
    let layers: [Layer]
    let inverseFrequencies: [Float]  // (D/2)
    /// YaRN's factor on cos and sin (1 without YaRN).
    let attentionFactor: Float

    /// Builds the model from HF-named tensors (experts split by `GptOssExperts`), checking every
    /// shape against `config`.
    public init(config: ModelConfig, loader: WeightLoader) throws {
        try ModelFactory.checkShapes(config, source: loader.source)
        guard let moe = config.experts, moe.count > 0, (1...moe.count).contains(moe.perToken) else {
            throw ModelError.badConfig(
                "num_experts_per_tok must be from 1 to num_local_experts (a mixture-of-experts model)",
                source: loader.source)
        }
        self.config = config
        options = loader.options
        let c = config.hiddenSize
        let scale = 1 / Float(config.headDim).squareRoot()  // matches transformers GptOssAttention: head_dim^-0.5
        embedding = try loader.tensor("model.embed_tokens.weight", shape: [config.vocabSize, c])
        head = OutputHead(
            weight: try loader.outputHead(config: config, embedding: embedding),
            norm: try loader.rmsNorm("model.norm.weight", count: c, offset: 0, config: config), softcap: nil,
            options: loader.options)
        layers = try (0..<config.numHiddenLayers).map { i in
            let p = "model.layers.\(i)."
            return Layer(
                inputNorm: try loader.rmsNorm(p + "input_layernorm.weight", count: c, offset: 0, config: config),
                attention: try AttentionBlock(
                    loader, layer: i, config: config, bias: config.attentionBias, outputBias: config.attentionBias,
                    sinks: true, scale: scale),
                postAttentionNorm: try loader.rmsNorm(
                    p + "post_attention_layernorm.weight", count: c, offset: 0, config: config),
                moe: try MixtureOfExperts(loader, layer: i, config: config))
        }
        inverseFrequencies = Kernels.ropeInverseFrequencies(
            headDim: config.headDim, base: config.ropeTheta, scaling: config.ropeScaling)
        attentionFactor = Float(config.ropeScaling.attentionFactor)
    }

    /// Runs a pass leaving the logits in its workspace; see `LanguageModel.forwardInPlace`.
    public func forwardInPlace(_ pass: ForwardPass) throws -> UnsafeBufferPointer<Float> {
        let ws = try workspace(for: pass)
        let tokens = pass.tokens
        let t = tokens.count
        let c = config.hiddenSize
        let x = ws.hidden.pointer  // (T, C)
        let n = ws.normed.pointer  // (T, C)
        let proj = ws.projected.pointer  // (T, C)

        for (i, id) in tokens.enumerated() { embedding.decodeRow(id, into: x + i * c) }
        let rope = RotaryTable(
            cos: ws.cosGlobal, sin: ws.sinGlobal, positions: ws.positions, inverseFrequencies: inverseFrequencies,
            attentionFactor: attentionFactor)

        for (li, layer) in layers.enumerated() {
            layer.inputNorm(x, rows: t, out: n)
            try layer.attention(n, pass: pass, layer: li, rope: rope, out: proj)
            for i in 0..<t * c { x[i] += proj[i] }

            layer.postAttentionNorm(x, rows: t, out: n)
            layer.moe(n, tokens: t, workspace: ws, out: proj, decode: pass.decode)
            for i in 0..<t * c { x[i] += proj[i] }
        }
        pass.advance()
        return head(x, tokens: t, rows: pass.logits, workspace: ws, decode: pass.decode)
    }
}
