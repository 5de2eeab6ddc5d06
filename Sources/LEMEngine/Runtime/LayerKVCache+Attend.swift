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
        self.positions.withUnsafeBufferPointer { ownPositions in
            let ownRun = Kernels.KeySegment(
                keys: self.keys.pointer, values: self.values.pointer, positions: ownPositions.baseAddress!, slots: own)
            func attend(_ runs: UnsafeBufferPointer<Kernels.KeySegment>) {
                Kernels.attention(
                    queries: queries, queryPositions: positions.baseAddress!, segments: runs, tokens: tokens,
                    heads: heads, kvHeads: kvHeads, headDim: headDim, scale: scale, window: window, softcap: softcap,
                    sinks: sinks, scores: scorePointer, scoreRows: scoreRows, out: out, options: options)
            }
            guard let shared else {
                return withUnsafePointer(to: ownRun) { attend(UnsafeBufferPointer(start: $0, count: 1)) }
            }
            // A shared prefix's rows, then this layer's own slots: one slot sequence to the kernel.
            withSharedSegment(shared) { prefix in
                withUnsafeTemporaryAllocation(of: Kernels.KeySegment.self, capacity: 2) { runs in
                    runs.baseAddress!.initialize(to: prefix)
                    (runs.baseAddress! + 1).initialize(to: ownRun)
                    attend(UnsafeBufferPointer(runs))
                }
            }
        }
    }
}
