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
        let inputNorm, postAttentionNorm, preFeedforwardNorm, postFeedforwardNorm: [Float]  // (C)
        let qNorm, kNorm: [Float]  // (D)
        let q, k, v, o: Linear
        let gate, up, down: Linear
        /// Sliding window size, 0 for full attention.
        let window: Int
        /// q/k/v and gate/up as one pool run each for a single token (nil: called one by one,
        /// as when `fuse` — the options' `fuseMatvecs` — is off).
        let qkv: FusedLinears?
        let gateUp: FusedLinears?

        init(
            inputNorm: [Float], postAttentionNorm: [Float], preFeedforwardNorm: [Float], postFeedforwardNorm: [Float],
            qNorm: [Float], kNorm: [Float], q: Linear, k: Linear, v: Linear, o: Linear,
            gate: Linear, up: Linear, down: Linear, window: Int, fuse: Bool
        ) {
            self.inputNorm = inputNorm
            self.postAttentionNorm = postAttentionNorm
            self.preFeedforwardNorm = preFeedforwardNorm
            self.postFeedforwardNorm = postFeedforwardNorm
            self.qNorm = qNorm
            self.kNorm = kNorm
            self.q = q
            self.k = k
            self.v = v
            self.o = o
            self.gate = gate
            self.up = up
            self.down = down
            self.window = window
            qkv = fuse ? FusedLinears([q, k, v]) : nil
            gateUp = fuse ? FusedLinears([gate, up]) : nil
        }
    }

    /// The architecture hyper-parameters.
    public let config: ModelConfig
    /// The options the model was built with and runs with.
    public let options: EngineOptions
    let embedding: any WeightTensor  // [V, C]
    let head: any WeightTensor  // [V, C]
    let finalNorm: [Float]  // (C)
    let layers: [Layer]
    let globalFrequencies: [Float]  // (D/2)
    let localFrequencies: [Float]  // (D/2)
    let activation: Activation

    /// Builds the model from HF-named tensors (norm weights in HF's `w`, not `1 + w`, form).
    public init(config: ModelConfig, loader: WeightLoader) throws {
        guard let activation = Activation(configName: config.hiddenActivation) else {
            throw ModelError.unsupportedActivation(config.hiddenActivation, source: loader.source)
        }
        try ModelFactory.checkShapes(config, source: loader.source)
        self.config = config
        options = loader.options
        self.activation = activation
        let c = config.hiddenSize, f = config.intermediateSize, d = config.headDim
        let qDim = config.numAttentionHeads * d, kvDim = config.numKeyValueHeads * d
        embedding = try loader.tensor("model.embed_tokens.weight", shape: [config.vocabSize, c])
        head = try loader.outputHead(config: config, embedding: embedding)
        finalNorm = try loader.vector("model.norm.weight", count: c)
        layers = try (0 ..< config.numHiddenLayers).map { i in
            let p = "model.layers.\(i)."
            let sliding = config.layerTypes.indices.contains(i) && config.layerTypes[i] == .slidingAttention
            return Layer(
                inputNorm: try loader.vector(p + "input_layernorm.weight", count: c),
                postAttentionNorm: try loader.vector(p + "post_attention_layernorm.weight", count: c),
                preFeedforwardNorm: try loader.vector(p + "pre_feedforward_layernorm.weight", count: c),
                postFeedforwardNorm: try loader.vector(p + "post_feedforward_layernorm.weight", count: c),
                qNorm: try loader.vector(p + "self_attn.q_norm.weight", count: d),
                kNorm: try loader.vector(p + "self_attn.k_norm.weight", count: d),
                q: try loader.linear(p + "self_attn.q_proj", out: qDim, in: c, bias: config.attentionBias),
                k: try loader.linear(p + "self_attn.k_proj", out: kvDim, in: c, bias: config.attentionBias),
                v: try loader.linear(p + "self_attn.v_proj", out: kvDim, in: c, bias: config.attentionBias),
                o: try loader.linear(p + "self_attn.o_proj", out: c, in: qDim),
                gate: try loader.linear(p + "mlp.gate_proj", out: f, in: c),
                up: try loader.linear(p + "mlp.up_proj", out: f, in: c),
                down: try loader.linear(p + "mlp.down_proj", out: c, in: f),
                window: sliding ? (config.slidingWindow ?? 0) : 0, fuse: loader.options.fuseMatvecs)
        }
        globalFrequencies = Kernels.ropeInverseFrequencies(
            headDim: d, base: config.ropeTheta, scaling: config.ropeScaling)
        localFrequencies = Kernels.ropeInverseFrequencies(
            headDim: d, base: config.ropeLocalTheta ?? config.ropeTheta, scaling: config.ropeLocalScaling)
    }

    /// Runs a chunk of tokens; see `LanguageModel.forward`.
    public func forward(tokens: [Int], cache: KVCache, logits rows: LogitRows) throws -> [Float] {
        Array(try forwardInPlace(tokens: tokens, cache: cache, logits: rows))
    }

    /// Runs a chunk of tokens leaving the logits in the workspace; see `LanguageModel.forwardInPlace`.
    public func forwardInPlace(tokens: [Int], cache: KVCache, logits rows: LogitRows) throws -> UnsafeBufferPointer<Float> {
        try validate(tokens: tokens, cache: cache)
        let t = tokens.count, c = config.hiddenSize, f = config.intermediateSize
        let heads = config.numAttentionHeads, kvHeads = config.numKeyValueHeads, d = config.headDim
        let eps = Float(config.rmsNormEps)
        let ws = cache.workspace
        ws.reserve(tokens: t, config: config, logits: rows)
        ws.setPositions(start: cache.count, count: t)
        let x = ws.hidden.pointer  // (T, C)
        let n = ws.normed.pointer  // (T, C)
        let q = ws.queries.pointer, k = ws.keys.pointer, v = ws.values.pointer  // (T, H|K, D)
        let att = ws.attention.pointer  // (T, H, D)
        let proj = ws.projected.pointer  // (T, C)
        let gate = ws.gate.pointer, up = ws.up.pointer  // (T, F)
        let tile = ws.tile.pointer
        let cosG = ws.cosGlobal.pointer, sinG = ws.sinGlobal.pointer  // (T, D/2)
        let cosL = ws.cosLocal.pointer, sinL = ws.sinLocal.pointer  // (T, D/2)

        // matches transformers Gemma3TextScaledWordEmbedding: embed * sqrt(hidden) in the model dtype
        let normalizer = Float(Double(c).squareRoot())
        for (i, id) in tokens.enumerated() {
            let row = x + i * c
            embedding.decodeRow(id, into: row)
            for j in 0 ..< c { row[j] *= normalizer }
        }
        ws.positions.withUnsafeBufferPointer { pos in
            Kernels.ropeTable(
                positions: pos.baseAddress!, count: t, inverseFrequencies: globalFrequencies, half: d / 2,
                cos: cosG, sin: sinG)
            Kernels.ropeTable(
                positions: pos.baseAddress!, count: t, inverseFrequencies: localFrequencies, half: d / 2,
                cos: cosL, sin: sinL)
        }
        // matches transformers Gemma3Attention: scaling = query_pre_attn_scalar^-0.5
        let scale = Float(1 / (config.queryPreAttnScalar ?? Double(d)).squareRoot())
        let softcap = Float(config.attnLogitSoftcapping ?? 0)

        for (li, layer) in layers.enumerated() {
            let local = layer.window > 0
            Kernels.rmsNorm(x, weight: layer.inputNorm, offset: 1, eps: eps, rows: t, channels: c, out: n)
            if let qkv = layer.qkv {
                qkv(n, tokens: t, tile: tile, q, k, v)
            } else {
                layer.q(n, tokens: t, tile: tile, out: q)
                layer.k(n, tokens: t, tile: tile, out: k)
                layer.v(n, tokens: t, tile: tile, out: v)
            }
            Kernels.rmsNorm(q, weight: layer.qNorm, offset: 1, eps: eps, rows: t * heads, channels: d, out: q)
            Kernels.rmsNorm(k, weight: layer.kNorm, offset: 1, eps: eps, rows: t * kvHeads, channels: d, out: k)
            Kernels.applyRope(q, tokens: t, heads: heads, headDim: d, cos: local ? cosL : cosG, sin: local ? sinL : sinG)
            Kernels.applyRope(k, tokens: t, heads: kvHeads, headDim: d, cos: local ? cosL : cosG, sin: local ? sinL : sinG)
            try cache.capture?.record(
                layer: li, queries: q, keys: k, tokens: t, start: cache.count, scale: scale, softcap: softcap, window: layer.window)
            cache.layers[li].appendAndAttend(
                queries: q, keys: k, values: v, positions: ws.positions, heads: heads, kvHeads: kvHeads,
                headDim: d, scale: scale, softcap: softcap, scores: ws.scores, out: att, options: options)
            layer.o(att, tokens: t, tile: tile, out: proj)
            Kernels.rmsNorm(proj, weight: layer.postAttentionNorm, offset: 1, eps: eps, rows: t, channels: c, out: proj)
            for i in 0 ..< t * c { x[i] += proj[i] }

            Kernels.rmsNorm(x, weight: layer.preFeedforwardNorm, offset: 1, eps: eps, rows: t, channels: c, out: n)
            if let gateUp = layer.gateUp {
                gateUp(n, tokens: t, tile: tile, gate, up)
            } else {
                layer.gate(n, tokens: t, tile: tile, out: gate)
                layer.up(n, tokens: t, tile: tile, out: up)
            }
            Kernels.gatedActivation(gate: gate, up: up, count: t * f, activation: activation)
            layer.down(gate, tokens: t, tile: tile, out: proj)
            Kernels.rmsNorm(proj, weight: layer.postFeedforwardNorm, offset: 1, eps: eps, rows: t, channels: c, out: proj)
            for i in 0 ..< t * c { x[i] += proj[i] }
        }
        cache.advance(by: t)

        let first = rows == .all ? 0 : t - 1
        let count = t - first
        Kernels.rmsNorm(x + first * c, weight: finalNorm, offset: 1, eps: eps, rows: count, channels: c, out: n)
        let out = ws.logits.pointer  // (count, V)
        Kernels.matmul(n, weight: head, bias: nil, tokens: count, tile: tile, out: out, options: options)
        if let cap = config.finalLogitSoftcapping {
            for i in 0 ..< count * config.vocabSize { out[i] = Kernels.softcap(out[i], cap: Float(cap)) }
        }
        return UnsafeBufferPointer(start: out, count: count * config.vocabSize)
    }
}
