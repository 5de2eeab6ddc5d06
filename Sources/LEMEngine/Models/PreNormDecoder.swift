import LEMFormats

/// A feed-forward sub-block: a gated MLP (`GatedMLP`) or a mixture of experts (`MixtureOfExperts`).
protocol FeedForwardBlock: Sendable {
    /// Applies the block to `tokens` rows of `x` into `out`, working in `workspace`; `decode`: the
    /// rows are independent single-token steps.
    func callAsFunction(
        _ x: UnsafePointer<Float>, tokens: Int, workspace: Workspace, out: UnsafeMutablePointer<Float>, decode: Bool)
}

extension GatedMLP: FeedForwardBlock {}
extension MixtureOfExperts: FeedForwardBlock {}

/// One pre-norm decoder layer as Llama, Mistral, Qwen2 and GPT-OSS arrange it:
/// `x += attn(rmsNorm(x))`, then `x += feedForward(rmsNorm(x))`.
struct PreNormLayer<FeedForward: FeedForwardBlock>: Sendable {
    let inputNorm: RMSNorm  // (C)
    let attention: AttentionBlock
    let postAttentionNorm: RMSNorm  // (C)
    let feedForward: FeedForward

    /// Builds layer `index` from `model.layers.<index>.` tensors, its feed-forward by `feedForward`.
    init(
        _ loader: WeightLoader, layer index: Int, config: ModelConfig, attention: AttentionBlock,
        feedForward: FeedForward
    ) throws {
        let p = "model.layers.\(index)."
        let c = config.hiddenSize
        inputNorm = try loader.rmsNorm(p + "input_layernorm.weight", count: c, offset: 0, config: config)
        self.attention = attention
        postAttentionNorm = try loader.rmsNorm(
            p + "post_attention_layernorm.weight", count: c, offset: 0, config: config)
        self.feedForward = feedForward
    }

    /// Runs the layer on the residual stream of `pass`'s workspace (`Workspace.streams`), as layer
    /// `index` of the caches.
    func callAsFunction(_ pass: ForwardPass, layer index: Int, rope: RotaryTable) throws {
        let ws = pass.workspace
        let (x, n, proj) = ws.streams
        let t = pass.tokens.count
        let count = t * inputNorm.weight.count
        inputNorm(x, rows: t, out: n)
        try attention(n, pass: pass, layer: index, rope: rope, out: proj)
        for i in 0..<count { x[i] += proj[i] }
        postAttentionNorm(x, rows: t, out: n)
        feedForward(n, tokens: t, workspace: ws, out: proj, decode: pass.decode)
        for i in 0..<count { x[i] += proj[i] }
    }
}

/// A decoder of `PreNormLayer`s between a token embedding and an output head, with one rotary
/// table (cos and sin times `attentionFactor`): the model `Llama` (Llama, Mistral, Qwen2) and
/// `GptOss` build, each from its own checkpoint layout.
final class PreNormDecoder<FeedForward: FeedForwardBlock>: LanguageModel {
    let config: ModelConfig
    let options: EngineOptions
    let embedding: any WeightTensor  // [V, C]
    let head: OutputHead
    let layers: [PreNormLayer<FeedForward>]
    let inverseFrequencies: [Float]  // (D/2)
    /// YaRN's factor on cos and sin (1 without YaRN).
    let attentionFactor: Float

    /// A decoder of `layers` with the embedding and head `loader` holds for `config` (final norm
    /// in the plain `w` convention).
    init(
        config: ModelConfig, loader: WeightLoader, layers: [PreNormLayer<FeedForward>], inverseFrequencies: [Float],
        attentionFactor: Float = 1
    ) throws {
        self.config = config
        options = loader.options
        (embedding, head) = try loader.embeddingAndHead(config: config, normOffset: 0)
        self.layers = layers
        self.inverseFrequencies = inverseFrequencies
        self.attentionFactor = attentionFactor
    }

    /// Runs a pass leaving the logits in its workspace; see `LanguageModel.forwardInPlace`.
    func forwardInPlace(_ pass: ForwardPass) throws -> UnsafeBufferPointer<Float> {
        let ws = try embed(pass, from: embedding)
        let rope = RotaryTable(
            cos: ws.cosGlobal, sin: ws.sinGlobal, positions: ws.positions, inverseFrequencies: inverseFrequencies,
            attentionFactor: attentionFactor)
        for (li, layer) in layers.enumerated() { try layer(pass, layer: li, rope: rope) }
        pass.advance()
        return head(ws.hidden.pointer, tokens: pass.tokens.count, rows: pass.logits, workspace: ws, decode: pass.decode)
    }
}
