import Foundation
import LEMEngine

// The whole fast step: embedding, blocks (frozen ones forward only), the output head on the
// trained positions a vocabulary tile at a time, and the backward through the adapted blocks.
// Legend: B batch rows, T tokens per row (up to the last trained target), N = B·T, M trained
// positions, C hidden, V vocabulary, v rows of one head tile.

extension LoRATransformer {
    /// The mlx_lm loss of a batch and its gradient with respect to every adapter matrix.
    ///
    /// Same loss as `TrainableTransformer.lossAndGradients` (Σ cross-entropy over the unmasked
    /// targets ÷ their count). Rows are run together, cut at the last trained target of the
    /// batch; positions past a row's end are computed but, under the causal mask, change
    /// nothing that counts. `dropout` (nil for none) masks the LoRA inputs; validation passes nil.
    public func lossAndGradients(batch: TrainingBatch, mask kind: TrainingBatch.TargetMask = .exact, adapter: LoRAAdapter,
                                 computeGradients: Bool = true, dropout: LoRADropout? = nil)
        -> (loss: Double, tokens: Double, gradients: [String: LoRAGradient<Float>])
    {
        var view = AdapterView(adapter, dropout: computeGradients ? dropout : nil)
        view.dora = doraStates(adapter)
        var gradients: [String: LoRAGradient<Float>] = [:]
        for w in adapter.weights { gradients[w.modulePath] = .zeros(for: w) }
        let positions = batch.width - 1, b = batch.batchSize
        let fullMask = batch.targetMask(kind)  // (B, width − 1)
        let count = Double(fullMask.reduce(0, +))
        guard count > 0 else { return (0, 0, gradients) }
        let t = 1 + (0 ..< b).compactMap { row in
            fullMask[row * positions ..< (row + 1) * positions].lastIndex(where: { $0 != 0 }).map { $0 - row * positions }
        }.max()!
        let geometry = Geometry(batch: b, tokens: t, positions: (0 ..< b * t).map { $0 % t })
        let n = geometry.rows, c = config.hiddenSize
        var inputs = [Int](), targets = [Int](), trained = [Int]()  // (N), (N), (M) row indices
        for row in 0 ..< b {
            for p in 0 ..< t {
                inputs.append(batch.tokens[row * batch.width + p])
                targets.append(batch.tokens[row * batch.width + p + 1])
                if fullMask[row * positions + p] != 0 { trained.append(row * t + p) }
            }
        }

        // Forward.
        var x = [Float](repeating: 0, count: n * c)  // (N, C)
        x.withUnsafeMutableBufferPointer { out in
            for (r, token) in inputs.enumerated() { embedding.decodeRow(token, into: out.baseAddress! + r * c) }
        }
        if embeddingScale != 1 { for i in x.indices { x[i] *= embeddingScale } }
        let adaptedLayers = Set(adapter.weights.map(\.layer))
        let lowest = computeGradients ? (adaptedLayers.min() ?? layers.count) : layers.count
        var records = [BlockRecord?](repeating: nil, count: layers.count)
        var blockInputs = [[Float]](repeating: [], count: layers.count)
        for index in layers.indices {
            if index < lowest {
                var none: BlockRecord? = nil
                x = blockForward(index, x, geometry: geometry, view: view, record: &none)
            } else if gradientCheckpointing {
                blockInputs[index] = x
                var none: BlockRecord? = nil
                x = blockForward(index, x, geometry: geometry, view: view, record: &none)
            } else {
                var record: BlockRecord? = BlockRecord()
                x = blockForward(index, x, geometry: geometry, view: view, record: &record)
                records[index] = record
            }
        }
        let finalNormed = norm(x, finalNorm, rows: n, columns: c)
        var selected = [Float](repeating: 0, count: trained.count * c)  // (M, C)
        for (m, r) in trained.enumerated() {
            for j in 0 ..< c { selected[m * c + j] = finalNormed[r * c + j] }
        }
        let (lossSum, dSelected) = headLoss(selected, targets: trained.map { targets[$0] }, normalizer: count,
                                            backward: computeGradients)
        guard computeGradients else { return (lossSum / count, count, gradients) }

        // Backward.
        var dFinal = [Float](repeating: 0, count: n * c)  // (N, C)
        for (m, r) in trained.enumerated() {
            for j in 0 ..< c { dFinal[r * c + j] = dSelected[m * c + j] }
        }
        var dx = [Float](repeating: 0, count: n * c)
        normBackward(dFinal, x, finalNorm, rows: n, columns: c, into: &dx)
        for index in (lowest ..< layers.count).reversed() {
            var record = records[index]
            records[index] = nil  // free each block's activations as soon as it is done
            if record == nil {
                record = BlockRecord()
                _ = blockForward(index, blockInputs[index], geometry: geometry, view: view, record: &record)
                blockInputs[index] = []
            }
            dx = blockBackward(index, dx, record: record!, geometry: geometry, view: view, gradients: &gradients)
        }
        return (lossSum / count, count, gradients)
    }

    /// Σ cross-entropy of `hidden · headᵀ` against `targets` and, when `backward`, the gradient
    /// of (that sum ÷ `normalizer`) with respect to `hidden`.
    ///
    /// Two passes over the vocabulary in tiles of `headTileRows`: the first keeps a running
    /// max and sum of exponentials per position (online log-sum-exp), the second recomputes
    /// each tile's logits, turns them into `softmax − onehot` and adds `dLogits · tile`.
    func headLoss(_ hidden: [Float], targets: [Int], normalizer: Double, backward: Bool)
        -> (lossSum: Double, dHidden: [Float])
    {
        let m = targets.count, c = config.hiddenSize, vocabulary = head.rows, step = headTileRows
        let cap = config.finalLogitSoftcapping.map { Float($0) }
        let head = FrozenLinear(weight: self.head, bias: nil)
        var tile = [Float](repeating: 0, count: step * c)  // (v, C)
        var logits = [Float](repeating: 0, count: m * step)  // (M, v)
        var maxima = [Double](repeating: -.infinity, count: m), sums = [Double](repeating: 0, count: m)
        var targetLogits = [Double](repeating: 0, count: m)
        /// Decodes tile `start` and writes its (capped) logits; returns the tile's row count.
        func tileLogits(_ start: Int) -> Int {
            let rows = min(step, vocabulary - start)
            tile.withUnsafeMutableBufferPointer { head.decode(rows: start, count: rows, into: $0.baseAddress!) }
            // logits (M, v) = hidden (M, C) · tile (v, C)ᵀ
            sgemm(transB: true, m: m, n: rows, k: c, hidden, lda: c, tile, ldb: c, &logits, ldc: step)
            if let cap { for i in 0 ..< m * step { logits[i] = cap * tanh(logits[i] / cap) } }
            return rows
        }
        var start = 0
        while start < vocabulary {
            let rows = tileLogits(start)
            for r in 0 ..< m {
                let base = r * step
                var tileMax = -Float.infinity
                for j in 0 ..< rows { tileMax = max(tileMax, logits[base + j]) }
                let newMax = max(maxima[r], Double(tileMax))
                var total = 0.0
                var partial: Float = 0
                let shift = Float(newMax)
                for j in 0 ..< rows { partial += exp(logits[base + j] - shift) }
                total = Double(partial)
                sums[r] = sums[r] * exp(maxima[r] - newMax) + total
                maxima[r] = newMax
                let target = targets[r]
                if target >= start && target < start + rows { targetLogits[r] = Double(logits[base + target - start]) }
            }
            start += rows
        }
        let logSumExp = (0 ..< m).map { maxima[$0] + log(sums[$0]) }
        let lossSum = (0 ..< m).reduce(0.0) { $0 + logSumExp[$1] - targetLogits[$1] }
        guard backward else { return (lossSum, []) }

        var dHidden = [Float](repeating: 0, count: m * c)  // (M, C)
        let weight = Float(1 / normalizer)
        start = 0
        while start < vocabulary {
            let rows = tileLogits(start)
            for r in 0 ..< m {
                let base = r * step, lse = Float(logSumExp[r])
                for j in 0 ..< rows {
                    let l = logits[base + j]
                    var g = weight * exp(l - lse)
                    if start + j == targets[r] { g -= weight }
                    if let cap { let u = l / cap; g *= 1 - u * u }  // l = cap·tanh(z/cap) ⇒ dl/dz = 1 − (l/cap)²
                    logits[base + j] = g
                }
            }
            // dHidden (M, C) += dLogits (M, v) · tile (v, C)
            sgemm(m: m, n: c, k: rows, logits, lda: step, tile, ldb: c, beta: 1, &dHidden, ldc: c)
            start += rows
        }
        return (lossSum, dHidden)
    }
}
