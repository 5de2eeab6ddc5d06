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
        let inputNorm: [Float]  // (C)
        let q, k, v, o: Linear
        let postAttentionNorm: [Float]  // (C)
        let gate, up, down: Linear
        /// Sliding window size, 0 for full attention.
        let window: Int
        /// q/k/v and gate/up as one pool run each for a single token (nil: called one by one,
        /// as when `fuse` — the options' `fuseMatvecs` — is off).
        let qkv: FusedLinears?
        let gateUp: FusedLinears?

        init(
            inputNorm: [Float], q: Linear, k: Linear, v: Linear, o: Linear, postAttentionNorm: [Float],
            gate: Linear, up: Linear, down: Linear, window: Int, fuse: Bool
        ) {
            self.inputNorm = inputNorm
            self.q = q
            self.k = k
            self.v = v
            self.o = o
            self.postAttentionNorm = postAttentionNorm
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
    let inverseFrequencies: [Float]  // (D/2)
    let activation: Activation

    /// Builds the model from HF-named tensors, checking every shape against `config`.
    ///
    /// `attentionBias` forces q/k/v biases on (Qwen2); otherwise `config.attentionBias` decides.
    public init(config: ModelConfig, loader: WeightLoader, attentionBias: Bool? = nil) throws {
        guard let activation = Activation(configName: config.hiddenActivation) else {
            throw ModelError.unsupportedActivation(config.hiddenActivation, source: loader.source)
        }
        try ModelFactory.checkShapes(config, source: loader.source)
        self.config = config
        options = loader.options
        self.activation = activation
        let c = config.hiddenSize, f = config.intermediateSize
        let qDim = config.numAttentionHeads * config.headDim, kvDim = config.numKeyValueHeads * config.headDim
        let bias = attentionBias ?? config.attentionBias
        embedding = try loader.tensor("model.embed_tokens.weight", shape: [config.vocabSize, c])
        head = try loader.outputHead(config: config, embedding: embedding)
        finalNorm = try loader.vector("model.norm.weight", count: c)
        layers = try (0 ..< config.numHiddenLayers).map { i in
            let p = "model.layers.\(i)."
            let sliding = config.layerTypes.indices.contains(i) && config.layerTypes[i] == .slidingAttention
            return Layer(
                inputNorm: try loader.vector(p + "input_layernorm.weight", count: c),
                q: try loader.linear(p + "self_attn.q_proj", out: qDim, in: c, bias: bias),
                k: try loader.linear(p + "self_attn.k_proj", out: kvDim, in: c, bias: bias),
                v: try loader.linear(p + "self_attn.v_proj", out: kvDim, in: c, bias: bias),
                o: try loader.linear(p + "self_attn.o_proj", out: c, in: qDim),
                postAttentionNorm: try loader.vector(p + "post_attention_layernorm.weight", count: c),
                gate: try loader.linear(p + "mlp.gate_proj", out: f, in: c),
                up: try loader.linear(p + "mlp.up_proj", out: f, in: c),
                down: try loader.linear(p + "mlp.down_proj", out: c, in: f),
                window: sliding ? (config.slidingWindow ?? 0) : 0, fuse: loader.options.fuseMatvecs)
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
        let cosT = ws.cosGlobal.pointer, sinT = ws.sinGlobal.pointer  // (T, D/2)

        for (i, id) in tokens.enumerated() { embedding.decodeRow(id, into: x + i * c) }
        ws.positions.withUnsafeBufferPointer { pos in
            inverseFrequencies.withUnsafeBufferPointer { inv in
                Kernels.ropeTable(
                    positions: pos.baseAddress!, count: t, inverseFrequencies: inv.baseAddress!, half: d / 2,
                    cos: cosT, sin: sinT)
            }
        }
        let scale = 1 / Float(d).squareRoot()  // matches transformers LlamaAttention: head_dim^-0.5

        for (li, layer) in layers.enumerated() {
            Kernels.rmsNorm(x, weight: layer.inputNorm, offset: 0, eps: eps, rows: t, channels: c, out: n)
            if let qkv = layer.qkv {
                qkv(n, tokens: t, tile: tile, q, k, v)
            } else {
                layer.q(n, tokens: t, tile: tile, out: q)
                layer.k(n, tokens: t, tile: tile, out: k)
                layer.v(n, tokens: t, tile: tile, out: v)
            }
            Kernels.applyRope(q, tokens: t, heads: heads, headDim: d, cos: cosT, sin: sinT)
            Kernels.applyRope(k, tokens: t, heads: kvHeads, headDim: d, cos: cosT, sin: sinT)
            try cache.capture?.record(
                layer: li, queries: q, keys: k, tokens: t, start: cache.count, scale: scale, softcap: 0, window: layer.window)
            cache.layers[li].appendAndAttend(
                queries: q, keys: k, values: v, positions: ws.positions, heads: heads, kvHeads: kvHeads,
                headDim: d, scale: scale, softcap: 0, scores: ws.scores, out: att, options: options)
            layer.o(att, tokens: t, tile: tile, out: proj)
            for i in 0 ..< t * c { x[i] += proj[i] }

            Kernels.rmsNorm(x, weight: layer.postAttentionNorm, offset: 0, eps: eps, rows: t, channels: c, out: n)
            if let gateUp = layer.gateUp {
                gateUp(n, tokens: t, tile: tile, gate, up)
            } else {
                layer.gate(n, tokens: t, tile: tile, out: gate)
                layer.up(n, tokens: t, tile: tile, out: up)
            }
            Kernels.gatedActivation(gate: gate, up: up, count: t * f, activation: activation)
            layer.down(gate, tokens: t, tile: tile, out: proj)
            for i in 0 ..< t * c { x[i] += proj[i] }
        }
        cache.advance(by: t)

        let first = rows == .all ? 0 : t - 1
        let count = t - first
        Kernels.rmsNorm(x + first * c, weight: finalNorm, offset: 0, eps: eps, rows: count, channels: c, out: n)
        let out = ws.logits.pointer  // (count, V)
        Kernels.matmul(n, weight: head, bias: nil, tokens: count, tile: tile, out: out, options: options)
        return UnsafeBufferPointer(start: out, count: count * config.vocabSize)
    }
}
