import LEMFormats

/// The self-attention sub-block of one decoder layer, as every supported architecture computes
/// it: `o(attend(rope(norm?(q(x))), rope(norm?(k(x))), v(x)))` over the layer's KV cache.
///
/// What an architecture chooses is given at load: q/k/v biases (Qwen2; GPT-OSS also biases o),
/// per-head q/k RMSNorms (Gemma 3), per-head sink logits (GPT-OSS), the score scale and soft-cap,
/// the sliding window; the rotary table is chosen per
/// call (Gemma 3's sliding layers use the local base). For a single token q/k/v run as one pool
/// run (`FusedLinears`). Legend: T tokens, C hidden, H query heads, K key/value heads, D head dim.
struct AttentionBlock: Sendable {
    let q, k, v, o: Linear
    /// q/k/v as one pool run for a single token (nil: called one by one).
    let qkv: FusedLinears?
    /// Per-head norms of q and k before RoPE (Gemma 3), nil when the architecture has none. // (D)
    let queryNorm, keyNorm: RMSNorm?
    let heads, kvHeads, headDim: Int
    /// Multiplies q·k before the softmax.
    let scale: Float
    /// Score soft-capping `cap · tanh(s / cap)`, 0 for none.
    let softcap: Float
    /// Sliding window size, 0 for full attention.
    let window: Int
    /// `self_attn.sinks`: one extra softmax logit per query head with no value (GPT-OSS), nil for none. // (H)
    let sinks: [Float]?
    /// The kernels' options (the model's).
    let options: EngineOptions

    /// Loads layer `index`'s `self_attn.{q,k,v,o}_proj` (q/k/v with biases when `bias`, o when
    /// `outputBias`), when `headNormOffset` is given `self_attn.{q,k}_norm` in that convention, and
    /// when `sinks` `self_attn.sinks`.
    init(
        _ loader: WeightLoader, layer index: Int, config: ModelConfig, bias: Bool, outputBias: Bool = false,
        headNormOffset: Float? = nil, sinks: Bool = false, scale: Float, softcap: Float = 0
    ) throws {
        let p = "model.layers.\(index).self_attn."
        let c = config.hiddenSize
        let d = config.headDim
        let qDim = config.numAttentionHeads * d
        let kvDim = config.numKeyValueHeads * d
        func headNorm(_ name: String) throws -> RMSNorm? {
            try headNormOffset.map { try loader.rmsNorm(p + name + ".weight", count: d, offset: $0, config: config) }
        }
        queryNorm = try headNorm("q_norm")
        keyNorm = try headNorm("k_norm")
        q = try loader.linear(p + "q_proj", out: qDim, in: c, bias: bias)
        k = try loader.linear(p + "k_proj", out: kvDim, in: c, bias: bias)
        v = try loader.linear(p + "v_proj", out: kvDim, in: c, bias: bias)
        o = try loader.linear(p + "o_proj", out: c, in: qDim, bias: outputBias)
        self.sinks = sinks ? try loader.vector(p + "sinks", count: config.numAttentionHeads) : nil
        qkv = FusedLinears.forDecode([q, k, v], options: loader.options)
        options = loader.options
        heads = config.numAttentionHeads
        kvHeads = config.numKeyValueHeads
        headDim = d
        self.scale = scale
        self.softcap = softcap
        window = config.window(layer: index) ?? 0
    }

    /// Attends the rows of `x` (the normed residual) of `pass` to layer `index`'s caches
    /// (appending their keys and values), writing the output projection to `out`: a chunk to its
    /// one cache, a decode step's row `b` to `pass.caches[b]`.
    ///
    /// Works in `pass.workspace` (queries, keys, values, attention, tile, scores); feeds each
    /// cache's attention capture, when on, right after RoPE.
    func callAsFunction(
        _ x: UnsafePointer<Float>,  // (T, C)
        pass: ForwardPass, layer index: Int, rope: RotaryTable,
        out: UnsafeMutablePointer<Float>  // (T, C)
    ) throws {
        let ws = pass.workspace
        let t = pass.tokens.count
        let decode = pass.decode
        let q = ws.queries.pointer
        let k = ws.keys.pointer
        let v = ws.values.pointer  // (T, H|K, D)
        let att = ws.attention.pointer  // (T, H, D)
        let tile = ws.tile.pointer
        if let qkv {
            qkv(x, tokens: t, tile: tile, q, k, v, decode: decode)
        } else {
            self.q(x, tokens: t, tile: tile, out: q, decode: decode)
            self.k(x, tokens: t, tile: tile, out: k, decode: decode)
            self.v(x, tokens: t, tile: tile, out: v, decode: decode)
        }
        if let queryNorm, let keyNorm {
            queryNorm(q, rows: t * heads, out: q)
            keyNorm(k, rows: t * kvHeads, out: k)
        }
        Kernels.applyRope(q, tokens: t, heads: heads, headDim: headDim, cos: rope.cos, sin: rope.sin)
        Kernels.applyRope(k, tokens: t, heads: kvHeads, headDim: headDim, cos: rope.cos, sin: rope.sin)
        let qDim = heads * headDim
        let kvDim = kvHeads * headDim
        // A chunk is one sequence of T rows; a decode step is T sequences of one row each.
        let sequences = decode ? t : 1
        let rows = decode ? 1 : t
        try ws.positions.withUnsafeBufferPointer { positions in
            try withSinks { sinks in
                for s in 0..<sequences {
                    let cache = pass.caches[s]
                    let first = s * rows
                    try cache.capture?.record(
                        layer: index, queries: q + first * qDim, keys: k + first * kvDim, tokens: rows,
                        start: cache.count, scale: scale, softcap: softcap, window: window, sinks: sinks)
                    cache.layers[index].appendAndAttend(
                        queries: q + first * qDim, keys: k + first * kvDim, values: v + first * kvDim,
                        positions: UnsafeBufferPointer(rebasing: positions[first..<first + rows]), heads: heads,
                        kvHeads: kvHeads, headDim: headDim, scale: scale, softcap: softcap, sinks: sinks,
                        scores: ws.scores, out: att + first * qDim, options: options)
                }
            }
        }
        o(att, tokens: t, tile: tile, out: out, decode: decode)
    }
}

extension AttentionBlock {
    /// Runs `body` with a pointer to the sink logits (nil without sinks).
    func withSinks<R>(_ body: (UnsafePointer<Float>?) throws -> R) rethrows -> R {
        guard let sinks else { return try body(nil) }
        return try sinks.withUnsafeBufferPointer { try body($0.baseAddress) }
    }
}

extension FusedLinears {
    /// `layers` grouped for decode when the model's options fuse them (`fuseMatvecs`), else nil:
    /// the one place the blocks decide it.
    static func forDecode(_ layers: [Linear], options: EngineOptions) -> FusedLinears? {
        options.fuseMatvecs ? FusedLinears(layers) : nil
    }
}
