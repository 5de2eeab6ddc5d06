import LEMFormats

/// The per-sequence state of a model: one `LayerKVCache` per layer, the number of positions
/// already processed, and the scratch buffers a forward pass works in.
///
/// Not thread-safe: one cache belongs to one sequence, used from one thread at a time (a
/// `Generator` creates and uses its cache on its own queue).
public final class KVCache {
    /// One entry per transformer layer.
    public let layers: [LayerKVCache]
    /// Positions processed so far; the next token gets this position.
    public private(set) var count: Int = 0
    /// Scratch buffers reused by every forward pass on this cache.
    public let workspace = Workspace()
    /// Opt-in attention capture, fed by each layer right after RoPE; nil (no cost) when off.
    public var capture: AttentionCapture?

    /// Creates an empty cache for `config`: sliding layers get a ring buffer of the window size.
    public init(config: ModelConfig) {
        let kvDim = config.numKeyValueHeads * config.headDim
        layers = (0..<config.numHiddenLayers).map { i in
            LayerKVCache(kvDim: kvDim, window: config.window(layer: i) ?? 0)
        }
    }

    /// Records that `tokens` more positions have been processed.
    public func advance(by tokens: Int) { count += tokens }

    /// Empties the cache so the next forward starts at position 0.
    public func reset() {
        count = 0
        for layer in layers { layer.reset() }
    }
}

/// Named scratch buffers for a forward pass, grown on demand and reused.
public final class Workspace {
    /// (T, C) residual stream.
    public let hidden = FloatBuffer()
    /// (T, C) normalized input of a sub-block.
    public let normed = FloatBuffer()
    /// (T, H, D)
    public let queries = FloatBuffer()
    /// (T, K, D)
    public let keys = FloatBuffer()
    /// (T, K, D)
    public let values = FloatBuffer()
    /// (T, H, D)
    public let attention = FloatBuffer()
    /// (T, C) output of a sub-block before the residual add.
    public let projected = FloatBuffer()
    /// (T, F)
    public let gate = FloatBuffer()
    /// (T, F)
    public let up = FloatBuffer()
    /// (T, D/2) for the global and the local rotary tables.
    public let cosGlobal = FloatBuffer(), sinGlobal = FloatBuffer()
    public let cosLocal = FloatBuffer(), sinLocal = FloatBuffer()
    /// (threads, Kernels.attentionScratchRow) attention scratch: one row per pool thread.
    public let scores = FloatBuffer()
    /// (matmulTileRows, max in) decoded weight rows.
    public let tile = FloatBuffer()
    /// (T or 1, V)
    public let logits = FloatBuffer()
    /// Mixture of experts: (T, E) router logits, (T, C) one expert's gathered rows and its output.
    public let routerLogits = FloatBuffer(), expertInput = FloatBuffer(), expertOutput = FloatBuffer()
    /// Mixture of experts: (T·k) each token's chosen experts and weights, the rows one expert got.
    public var routeExpert: [Int] = [], routeWeight: [Float] = [], expertRows: [Int] = []
    /// (T) absolute positions of the chunk.
    public var positions: [Int] = []

    /// Creates empty buffers.
    public init() {}

    /// The residual stream, a sub-block's normed input and its output, each (T, C).
    var streams:
        (
            hidden: UnsafeMutablePointer<Float>, normed: UnsafeMutablePointer<Float>,
            projected: UnsafeMutablePointer<Float>
        )
    {
        (hidden.pointer, normed.pointer, projected.pointer)
    }

    /// Sets `positions` to `start ..< start + count`, reusing the array's storage (a decode step
    /// allocates nothing once it has held one chunk).
    public func setPositions(start: Int, count: Int) {
        positions.removeAll(keepingCapacity: true)
        for i in 0..<count { positions.append(start + i) }
    }

    /// Grows every buffer for a chunk of `tokens` tokens of a model shaped like `config`; the
    /// logits for the rows `logits` asks for only (a 512-token prompt asking for its last row
    /// would otherwise reserve 512 × 262144 floats, 0.5 GB, on Gemma 3).
    public func reserve(tokens: Int, config: ModelConfig, logits rows: LogitRows = .all) {
        let c = config.hiddenSize
        let qDim = config.numAttentionHeads * config.headDim
        let kvDim = config.numKeyValueHeads * config.headDim
        let f = config.intermediateSize
        let half = config.headDim / 2
        hidden.reserve(tokens * c)
        normed.reserve(tokens * c)
        queries.reserve(tokens * qDim)
        keys.reserve(tokens * kvDim)
        values.reserve(tokens * kvDim)
        attention.reserve(tokens * qDim)
        projected.reserve(tokens * c)
        gate.reserve(tokens * f)
        up.reserve(tokens * f)
        for b in [cosGlobal, sinGlobal, cosLocal, sinLocal] { b.reserve(tokens * half) }
        tile.reserve(Kernels.matmulTileRows * max(c, qDim, f))
        logits.reserve((rows == .all ? tokens : 1) * config.vocabSize)
        if let experts = config.experts {
            routerLogits.reserve(tokens * experts.count)
            expertInput.reserve(tokens * c)
            expertOutput.reserve(tokens * c)
        }
    }
}
