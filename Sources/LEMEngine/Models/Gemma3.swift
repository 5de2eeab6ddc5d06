import Foundation
import LEMFormats

/// Gemma 3 (text) exactly as transformers' `Gemma3TextModel` + `Gemma3ForCausalLM` compute it.
///
/// - Embedding rows scaled by `sqrt(hidden)` (an f32 constant for an f32 model).
/// - RMSNorm in f32 as `x * (1 + w)` everywhere (input, post-attention, pre/post-feedforward,
///   per-head q/k norms, final norm).
/// - Attention: q/k normed per head before RoPE; scale `query_pre_attn_scalar^-0.5`; optional
///   score soft-capping; sliding layers use the local RoPE base and the window mask
///   (`kv > q - window`), full layers the global base with its scaling.
/// - Sandwich residuals: `x += postAttnNorm(attn(inputNorm(x)))`,
///   `x += postFFNorm(mlp(preFFNorm(x)))`; MLP `down(gelu_tanh(gate) * up)`.
/// - Tied output head, optional final logit soft-capping.
public final class Gemma3: LanguageModel {
    struct Layer: Sendable {
        let inputNorm, postAttentionNorm, preFeedforwardNorm, postFeedforwardNorm: RMSNorm  // (C)
        let attention: AttentionBlock
        let mlp: GatedMLP
    }

    /// The architecture hyper-parameters.
    public let config: ModelConfig
    /// The options the model was built with and runs with.
    public let options: EngineOptions
    let embedding: any WeightTensor  // [V, C]
    let layers: [Layer]
    let head: OutputHead
    let globalFrequencies: [Float]  // (D/2)
    let localFrequencies: [Float]  // (D/2)

    /// Builds the model from HF-named tensors (norm weights in HF's `w`, not `1 + w`, form).
    public init(config: ModelConfig, loader: WeightLoader) throws {
        let activation = try GatedMLP.activation(config, source: loader.source)
        try ModelFactory.checkShapes(config, source: loader.source)
        self.config = config
        options = loader.options
        let c = config.hiddenSize
        let d = config.headDim
        // matches transformers Gemma3Attention: scaling = query_pre_attn_scalar^-0.5
        let scale = Float(1 / (config.queryPreAttnScalar ?? Double(d)).squareRoot())
        let softcap = Float(config.attnLogitSoftcapping ?? 0)
        (embedding, head) = try loader.embeddingAndHead(
            config: config, normOffset: 1, softcap: config.finalLogitSoftcapping.map { Float($0) })
        layers = try (0..<config.numHiddenLayers).map { i in
            let p = "model.layers.\(i)."
            func norm(_ name: String) throws -> RMSNorm {
                try loader.rmsNorm(p + name + ".weight", count: c, offset: 1, config: config)
            }
            return Layer(
                inputNorm: try norm("input_layernorm"),
                postAttentionNorm: try norm("post_attention_layernorm"),
                preFeedforwardNorm: try norm("pre_feedforward_layernorm"),
                postFeedforwardNorm: try norm("post_feedforward_layernorm"),
                attention: try AttentionBlock(
                    loader, layer: i, config: config, bias: config.attentionBias, headNormOffset: 1, scale: scale,
                    softcap: softcap),
                mlp: try GatedMLP(loader, layer: i, config: config, activation: activation))
        }
        globalFrequencies = Kernels.ropeInverseFrequencies(
            headDim: d, base: config.ropeTheta, scaling: config.ropeScaling)
        localFrequencies = Kernels.ropeInverseFrequencies(
            headDim: d, base: config.ropeLocalTheta ?? config.ropeTheta, scaling: config.ropeLocalScaling)
    }

    /// Runs a pass leaving the logits in its workspace; see `LanguageModel.forwardInPlace`.
    public func forwardInPlace(_ pass: ForwardPass) throws -> UnsafeBufferPointer<Float> {
        let c = config.hiddenSize
        // matches transformers Gemma3TextScaledWordEmbedding: embed * sqrt(hidden) in the model dtype
        let ws = try embed(pass, from: embedding, scale: Float(Double(c).squareRoot()))
        let (x, n, proj) = ws.streams
        let t = pass.tokens.count
        let global = RotaryTable(
            cos: ws.cosGlobal, sin: ws.sinGlobal, positions: ws.positions, inverseFrequencies: globalFrequencies)
        let local = RotaryTable(
            cos: ws.cosLocal, sin: ws.sinLocal, positions: ws.positions, inverseFrequencies: localFrequencies)

        for (li, layer) in layers.enumerated() {
            layer.inputNorm(x, rows: t, out: n)
            let rope = layer.attention.window > 0 ? local : global
            try layer.attention(n, pass: pass, layer: li, rope: rope, out: proj)
            layer.postAttentionNorm(proj, rows: t, out: proj)
            for i in 0..<t * c { x[i] += proj[i] }

            layer.preFeedforwardNorm(x, rows: t, out: n)
            layer.mlp(n, tokens: t, workspace: ws, out: proj, decode: pass.decode)
            layer.postFeedforwardNorm(proj, rows: t, out: proj)
            for i in 0..<t * c { x[i] += proj[i] }
        }
        pass.advance()
        return head(x, tokens: t, rows: pass.logits, workspace: ws, decode: pass.decode)
    }
}
