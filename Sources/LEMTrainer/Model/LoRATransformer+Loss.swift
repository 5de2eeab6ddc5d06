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
    public func lossAndGradients(
        batch: TrainingBatch, mask kind: TrainingBatch.TargetMask = .exact, adapter: LoRAAdapter,
        computeGradients: Bool = true, dropout: LoRADropout? = nil
    )
        -> (loss: Double, tokens: Double, gradients: [String: LoRAGradient<Float>])
    {
        Kernels.useSerialBLAS()  // each thread multiplies its own share
        let view = adapterView(adapter, dropout: computeGradients ? dropout : nil)
        var gradients: [String: LoRAGradient<Float>] = [:]
        for w in adapter.weights { gradients[w.modulePath] = .zeros(for: w) }
        let positions = batch.width - 1
        let b = batch.batchSize
        let fullMask = batch.targetMask(kind)  // (B, width − 1)
        let count = Double(fullMask.reduce(0, +))
        guard count > 0 else { return (0, 0, gradients) }
        let t =
            1 + (0..<b).compactMap { row in
                fullMask[row * positions..<(row + 1) * positions].lastIndex(where: { $0 != 0 }).map {
                    $0 - row * positions
                }
            }.max()!
        let geometry = BatchGeometry(batch: b, tokens: t)
        let n = geometry.rows
        let c = config.hiddenSize
        var inputs = [Int]()
        var targets = [Int]()
        var trained = [Int]()  // (N), (N), (M) row indices
        for row in 0..<b {
            for p in 0..<t {
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
        var records = [BlockRecord<Float>?](repeating: nil, count: layers.count)
        var blockInputs = [[Float]](repeating: [], count: layers.count)
        for index in layers.indices {
            if index < lowest {
                var none: BlockRecord<Float>? = nil
                x = blockForward(index, x, geometry: geometry, view: view, record: &none)
            } else if gradientCheckpointing {
                blockInputs[index] = x
                var none: BlockRecord<Float>? = nil
                x = blockForward(index, x, geometry: geometry, view: view, record: &none)
            } else {
                var record: BlockRecord<Float>? = BlockRecord()
                x = blockForward(index, x, geometry: geometry, view: view, record: &record)
                records[index] = record
            }
        }
        let finalNormed = norm(x, finalNorm, rows: n, columns: c)
        var selected = [Float](repeating: 0, count: trained.count * c)  // (M, C)
        for (m, r) in trained.enumerated() {
            for j in 0..<c { selected[m * c + j] = finalNormed[r * c + j] }
        }
        let (lossSum, dSelected) = headLoss(
            selected, targets: trained.map { targets[$0] }, normalizer: count,
            backward: computeGradients)
        guard computeGradients else { return (lossSum / count, count, gradients) }

        // Backward.
        var dFinal = [Float](repeating: 0, count: n * c)  // (N, C)
        for (m, r) in trained.enumerated() {
            for j in 0..<c { dFinal[r * c + j] = dSelected[m * c + j] }
        }
        var dx = [Float](repeating: 0, count: n * c)
        normBackward(dFinal, x, finalNorm, rows: n, columns: c, into: &dx)
        for index in (lowest..<layers.count).reversed() {
            var record = records[index]
            records[index] = nil  // free each block's activations as soon as it is done
            if record == nil {
                record = BlockRecord()
                _ = blockForward(index, blockInputs[index], geometry: geometry, view: view, record: &record)
                blockInputs[index] = []
            }
            // Nothing below the lowest adapted block is trained: its input gradient is not needed.
            dx = blockBackward(
                index, dx, record: record!, geometry: geometry, view: view, inputGradient: index > lowest,
                gradients: &gradients)
        }
        return (lossSum / count, count, gradients)
    }

    /// Σ cross-entropy of `hidden · headᵀ` against `targets` and, when `backward`, the gradient
    /// of (that sum ÷ `normalizer`) with respect to `hidden`.
    ///
    /// One pass over the vocabulary in tiles of `headTileRows`, each tile decoded once: per
    /// position a running max `m` and sum `s = Σ e^(l − m)` (online log-sum-exp), and for the
    /// backward an accumulator `a = Σ_v e^(l_v − m)·slope_v·W_v` rescaled whenever `m` moves, so
    /// at the end `dHidden = (a ÷ s − slope_t·W_t) ÷ normalizer` (softmax − one-hot, through the
    /// optional soft cap, `slope = 1 − (l/cap)²`). No second pass recomputes the logits. Each
    /// thread makes this pass over its own slice of the vocabulary (`headPass`); the slices'
    /// states are merged at the end by the same rescaling.
    func headLoss(_ hidden: [Float], targets: [Int], normalizer: Double, backward: Bool)
        -> (lossSum: Double, dHidden: [Float])
    {
        let m = targets.count
        let c = config.hiddenSize
        let head = FrozenLinear(weight: self.head, bias: nil, options: options)
        let threads = TrainerThreads(options)
        let slices = threads.ranges(head.outputs, minimumPart: headTileRows)
        let states = slices.map { _ in HeadSlice(positions: m, hidden: backward ? c : 0) }
        hidden.withUnsafeBufferPointer { h in
            let input = UnsafeSendableInput(h.baseAddress!)
            threads.run(slices.count) { part in
                headPass(head, input.pointer, targets: targets, vocabulary: slices[part], into: states[part])
            }
        }
        var lossSum = 0.0
        var dHidden = [Float](repeating: 0, count: backward ? m * c : 0)  // (M, C)
        var targetRow = [Float](repeating: 0, count: c)  // (C)
        let weight = 1 / normalizer
        for r in 0..<m {
            let top = states.map { $0.maxima.pointer[r] }.max()!
            var sum = 0.0
            var targetLogit = 0.0
            var slope: Float = 1
            for state in states {
                sum += state.sums.pointer[r] * Double(exp(state.maxima.pointer[r] - top))
                if !state.targetLogits.pointer[r].isNaN {
                    targetLogit = state.targetLogits.pointer[r]
                    slope = state.targetSlopes.pointer[r]
                }
            }
            lossSum += Double(top) + log(sum) - targetLogit
            guard backward else { continue }
            targetRow.withUnsafeMutableBufferPointer {
                head.decodeSerial(rows: targets[r], count: 1, into: $0.baseAddress!)
            }
            let share = Float(weight / sum)
            let hit = Float(weight) * slope
            let factors = states.map { exp($0.maxima.pointer[r] - top) * share }
            for j in 0..<c {
                var a: Float = 0
                for (state, factor) in zip(states, factors) { a += state.accumulator.pointer[r * c + j] * factor }
                dHidden[r * c + j] = a - hit * targetRow[j]
            }
        }
        return (lossSum, dHidden)
    }

    /// The online log-sum-exp pass of `headLoss` over the vocabulary rows `vocabulary`, on the
    /// calling thread, into `state` (whose accumulator is empty when there is no backward).
    func headPass(
        _ head: FrozenLinear, _ hidden: UnsafePointer<Float>,  // (M, C)
        targets: [Int], vocabulary: Range<Int>, into state: HeadSlice
    ) {
        let m = targets.count
        let c = config.hiddenSize
        let step = min(headTileRows, vocabulary.count)
        let backward = state.hasAccumulator
        let cap = config.finalLogitSoftcapping.map { Float($0) }
        let tile = scratch.take(step * c)
        let logits = scratch.take(m * step)  // (v, C), (M, v)
        defer {
            scratch.give(tile)
            scratch.give(logits)
        }
        var start = vocabulary.lowerBound
        while start < vocabulary.upperBound {
            let rows = min(step, vocabulary.upperBound - start)
            let first = start
            head.decodeSerial(rows: start, count: rows, into: tile.pointer)
            // logits (M, v) = hidden (M, C) · tile (v, C)ᵀ
            sgemm(transB: true, m: m, n: rows, k: c, hidden, lda: c, tile.pointer, ldb: c, logits.pointer, ldc: step)
            for r in 0..<m {
                let row = logits.pointer + r * step
                if let cap { Kernels.softCapF32(row, count: rows, cap: cap) }
                let tileMax = Kernels.maximumF32(row, count: rows)
                let old = state.maxima.pointer[r]
                let newMax = max(old, tileMax)
                let target = targets[r] - first
                if target >= 0 && target < rows {
                    let l = row[target]
                    state.targetLogits.pointer[r] = Double(l)
                    if let cap {
                        let u = l / cap
                        state.targetSlopes.pointer[r] = 1 - u * u
                    }
                }
                let partial = Kernels.shiftedExponentialsF32(
                    row, count: rows, shift: newMax, slopeCap: cap,
                    overwrite: backward)
                let factor = old == -.infinity ? 0 : exp(old - newMax)
                state.sums.pointer[r] = state.sums.pointer[r] * Double(factor) + Double(partial)
                state.maxima.pointer[r] = newMax
                if backward && factor != 1 {
                    let a = state.accumulator.pointer + r * c
                    for j in 0..<c { a[j] *= factor }
                }
            }
            // accumulator (M, C) += e^(l − m)·slope (M, v) · tile (v, C)
            if backward {
                sgemm(
                    m: m, n: c, k: rows, logits.pointer, lda: step, tile.pointer, ldb: c, beta: 1,
                    state.accumulator.pointer, ldc: c)
            }
            start += rows
        }
    }
}

/// One thread's share of the output head in `headLoss`: the online log-sum-exp state of every
/// trained position over that thread's slice of the vocabulary.
final class HeadSlice: Sendable {
    let maxima: SharedBuffer<Float>  // (M), the running max logit
    let sums: SharedBuffer<Double>  // (M), Σ e^(l − max)
    let targetLogits: SharedBuffer<Double>  // (M), NaN while the target is not in the slice
    let targetSlopes: SharedBuffer<Float>  // (M), the soft cap's slope at the target
    let accumulator: SharedBuffer<Float>  // (M, C), Σ e^(l − max)·slope·W_v; empty without backward
    let hasAccumulator: Bool

    init(positions m: Int, hidden c: Int) {
        maxima = SharedBuffer(m, -.infinity)
        sums = SharedBuffer(m, 0)
        targetLogits = SharedBuffer(m, .nan)
        targetSlopes = SharedBuffer(m, 1)
        accumulator = SharedBuffer(m * c, 0)
        hasAccumulator = c > 0
    }
}

/// A buffer of plain values that worker threads read and write at disjoint indices; freed with
/// its last reference.
final class SharedBuffer<Element: BitwiseCopyable>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Element>

    /// `count` copies of `value`.
    init(_ count: Int, _ value: Element) {
        pointer = .allocate(capacity: max(1, count))
        pointer.initialize(repeating: value, count: max(1, count))
    }

    deinit { pointer.deallocate() }
}

extension SharedBuffer where Element == Float {
    /// A zeroed f32 buffer.
    convenience init(_ count: Int) { self.init(count, 0) }
}
