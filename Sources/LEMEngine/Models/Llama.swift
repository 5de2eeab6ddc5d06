import LEMFormats

/// The Llama decoder (Llama 2/3.x, Mistral, SmolLM2; Qwen2 adds q/k/v biases) as transformers'
/// `LlamaModel` + `LlamaForCausalLM` compute it.
///
/// Per layer: `x += o(attn(rope(q(n)), rope(k(n)), v(n)))` with `n = rmsNorm(x)`, then
/// `x += down(silu(gate(n')) * up(n'))` with `n' = rmsNorm(x)`; a final RMSNorm and the output
/// head (tied to the embedding when the checkpoint says so). Attention scale is `headDim^-0.5`;
/// RoPE uses `rope_theta` with the configured scaling (llama3 or linear).
public final class Llama: LanguageModel {
    struct Layer: Sendable {
        let inputNorm: RMSNorm  // (C)
        let attention: AttentionBlock
        let postAttentionNorm: RMSNorm  // (C)
        let mlp: GatedMLP
    }

    /// The architecture hyper-parameters.
    public let config: ModelConfig
    /// The options the model was built with and runs with.
    public let options: EngineOptions
    let embedding: any WeightTensor  // [V, C]
    let head: OutputHead
    let layers: [Layer]
    let inverseFrequencies: [Float]  // (D/2)

    /// Builds the model from HF-named tensors, checking every shape against `config`.
    ///
    /// `attentionBias` forces q/k/v biases on (Qwen2); otherwise `config.attentionBias` decides.
    public init(config: ModelConfig, loader: WeightLoader, attentionBias: Bool? = nil) throws {
        let activation = try GatedMLP.activation(config, source: loader.source)
        try ModelFactory.checkShapes(config, source: loader.source)
        self.config = config
        options = loader.options
        let c = config.hiddenSize
        let scale = 1 / Float(config.headDim).squareRoot()  // matches transformers LlamaAttention: head_dim^-0.5
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
                    loader, layer: i, config: config, bias: attentionBias ?? config.attentionBias, scale: scale),
                postAttentionNorm: try loader.rmsNorm(
                    p + "post_attention_layernorm.weight", count: c, offset: 0, config: config),
                mlp: try GatedMLP(loader, layer: i, config: config, activation: activation))
        }
        var inverse = Kernels.ropeInverseFrequencies(
            headDim: config.headDim, base: config.ropeTheta, scaling: config.ropeScaling)
        // llama.cpp's GGUFs carry llama3 scaling as per-frequency divisors (`rope_freqs.weight`,
        // θ_i / factor_i) instead of config values; apply them unless the config already scales.
        if config.ropeScaling == .none, loader.tensors["rope_freqs.weight"] != nil {
            let factors = try loader.vector("rope_freqs.weight", count: config.headDim / 2)
            inverse = zip(inverse, factors).map { $0 / $1 }
        }
        inverseFrequencies = inverse
    }

    /// Runs a pass leaving the logits in its workspace; see `LanguageModel.forwardInPlace`.
    public func forwardInPlace(_ pass: ForwardPass) throws -> UnsafeBufferPointer<Float> {
        let ws = try embed(pass, from: embedding)
        let (x, n, proj) = ws.streams
        let t = pass.tokens.count
        let c = config.hiddenSize
        let rope = RotaryTable(
            cos: ws.cosGlobal, sin: ws.sinGlobal, positions: ws.positions, inverseFrequencies: inverseFrequencies)

        for (li, layer) in layers.enumerated() {
            layer.inputNorm(x, rows: t, out: n)
            try layer.attention(n, pass: pass, layer: li, rope: rope, out: proj)
            for i in 0..<t * c { x[i] += proj[i] }

            layer.postAttentionNorm(x, rows: t, out: n)
            layer.mlp(n, tokens: t, workspace: ws, out: proj, decode: pass.decode)
            for i in 0..<t * c { x[i] += proj[i] }
        }
        pass.advance()
        return head(x, tokens: t, rows: pass.logits, workspace: ws, decode: pass.decode)
    }
}
