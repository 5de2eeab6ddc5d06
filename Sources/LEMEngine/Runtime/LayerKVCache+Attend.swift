extension LayerKVCache {
    /// Stores a chunk's keys and values, then attends the chunk's queries over everything this
    /// layer may see (the chunk itself included).
    ///
    /// `positions` are the chunk's absolute positions, ending at `end - 1`; `sinks` the layer's
    /// per-head sink logits, if any; `options` are the model's (`Kernels.attention`).
    func appendAndAttend(
        queries: UnsafePointer<Float>,  // (T, H, D)
        keys newKeys: UnsafePointer<Float>,  // (T, K, D)
        values newValues: UnsafePointer<Float>,  // (T, K, D)
        positions: UnsafeBufferPointer<Int>,  // (T)
        heads: Int, kvHeads: Int, headDim: Int, scale: Float, softcap: Float,
        sinks: UnsafePointer<Float>? = nil,  // (H)
        scores: FloatBuffer,  // (threads, Kernels.attentionScratchRow)
        out: UnsafeMutablePointer<Float>,  // (T, H, D)
        options: EngineOptions
    ) {
        let tokens = positions.count
        let end = positions[tokens - 1] + 1
        prepare(newTokens: tokens, end: end)
        for t in 0..<tokens {
            store(position: positions[t], key: newKeys + t * kvDim, value: newValues + t * kvDim)
        }
        let own = min(capacity, end - sharedCount)
        let slots = sharedCount + own
        let scoreRows = max(1, Kernels.threadCount)
        let scorePointer = scores.reserve(
            scoreRows * Kernels.attentionScratchRow(slots: slots, heads: heads, kvHeads: kvHeads, headDim: headDim))
        // A shared prefix's rows, then this layer's own slots: one slot sequence to the kernel.
        let emptyRows: [Float] = []
        let emptyPositions: [Int] = []
        let prefix = shared
        (prefix?.keys ?? emptyRows).withUnsafeBufferPointer { sk in
            (prefix?.values ?? emptyRows).withUnsafeBufferPointer { sv in
                (prefix?.positions ?? emptyPositions).withUnsafeBufferPointer { sp in
                    self.positions.withUnsafeBufferPointer { ownPositions in
                        var segments: [Kernels.KeySegment] = []
                        if let prefix, let k = sk.baseAddress, let v = sv.baseAddress, let p = sp.baseAddress {
                            segments.append(Kernels.KeySegment(keys: k, values: v, positions: p, slots: prefix.count))
                        }
                        segments.append(
                            Kernels.KeySegment(
                                keys: self.keys.pointer, values: self.values.pointer,
                                positions: ownPositions.baseAddress!, slots: own))
                        Kernels.attention(
                            queries: queries, queryPositions: positions.baseAddress!, segments: segments,
                            tokens: tokens, heads: heads, kvHeads: kvHeads, headDim: headDim, scale: scale,
                            window: window, softcap: softcap, sinks: sinks, scores: scorePointer,
                            scoreRows: scoreRows, out: out, options: options)
                    }
                }
            }
        }
    }
}
