import Foundation
import LEMEngine

// Causal attention over a batch of equal-width rows through BLAS, forward and backward, one
// (row, head) at a time: S = scale·Q Kᵀ, P = softmax(S masked), O = P V. The naive generic
// `attentionForward` / `attentionBackward` (finite-difference checked) are its oracles.
//
// Legend: B batch rows, T tokens per row, H query heads, K key/value heads, D head dim.

extension Kernels {
    /// Forward of causal grouped-query attention with an optional sliding window, every row of
    /// the batch at positions 0 ..< T; writes the output and the probabilities. The (row, head)
    /// pairs are shared out between the threads of `options`.
    public static func batchedAttentionForward(
        query q: UnsafePointer<Float>,  // (B, T, H, D)
        key k: UnsafePointer<Float>,  // (B, T, K, D)
        value v: UnsafePointer<Float>,  // (B, T, K, D)
        batch: Int, tokens t: Int, heads: Int, kvHeads: Int, headDim d: Int, scale: Float, window: Int?,
        output out: UnsafeMutablePointer<Float>,  // (B, T, H, D)
        probabilities p: UnsafeMutablePointer<Float>,  // (B, H, T, T), zero outside the mask
        options: EngineOptions = EngineOptions()
    ) {
        let l = HeadLayout(tokens: t, heads: heads, kvHeads: kvHeads, headDim: d)
        let s = SendableStorage(inputs: [q, k, v], outputs: [out, p])
        // The (row, head) pairs are independent: one share of them per thread.
        TrainerThreads(options).split(batch * heads, minimumPart: 1) { pairs in
            for pair in pairs {
                let b = pair / heads
                let h = pair % heads
                let qh = s.inputs[0] + l.queryOffset(row: b, head: h)
                let kh = s.inputs[1] + l.kvOffset(row: b, head: h)
                let vh = s.inputs[2] + l.kvOffset(row: b, head: h)
                let ph = s.outputs[1] + (b * heads + h) * t * t
                // S (T, T) = scale · Qh (T, D) · Khᵀ
                sgemm(
                    transB: true, m: t, n: t, k: d, alpha: scale, qh, lda: l.queryStride, kh, ldb: l.kvStride, ph,
                    ldc: t)
                for i in 0..<t {
                    let row = ph + i * t
                    let first = window.map { max(0, i - $0 + 1) } ?? 0
                    var maximum = -Float.infinity
                    for j in first...i { maximum = max(maximum, row[j]) }
                    var total: Float = 0
                    for j in 0..<t {
                        if j >= first && j <= i {
                            row[j] = exp(row[j] - maximum)
                            total += row[j]
                        } else {
                            row[j] = 0
                        }
                    }
                    let inverse = 1 / total
                    for j in first...i { row[j] *= inverse }
                }
                // Oh (T, D) = P (T, T) · Vh (T, D)
                sgemm(
                    m: t, n: d, k: t, ph, lda: t, vh, ldb: l.kvStride, s.outputs[0] + l.queryOffset(row: b, head: h),
                    ldc: l.queryStride)
            }
        }
    }

    /// Backward of `batchedAttentionForward`: writes `dQuery` and adds into `dKey` / `dValue`
    /// (query heads sharing a key/value head accumulate there).
    ///
    /// With dP = dO Vᵀ: dV += Pᵀ dO, dS = P ⊙ (dP − rowsum(dP ⊙ P)), dQ = scale·dS K,
    /// dK += scale·dSᵀ Q. The (row, key/value head) pairs are shared out between the threads of
    /// `options`.
    public static func batchedAttentionBackward(
        _ dOut: UnsafePointer<Float>,  // (B, T, H, D)
        query q: UnsafePointer<Float>,  // (B, T, H, D)
        key k: UnsafePointer<Float>,  // (B, T, K, D)
        value v: UnsafePointer<Float>,  // (B, T, K, D)
        probabilities p: UnsafePointer<Float>,  // (B, H, T, T)
        batch: Int, tokens t: Int, heads: Int, kvHeads: Int, headDim d: Int, scale: Float,
        dQuery: UnsafeMutablePointer<Float>,  // (B, T, H, D), overwritten
        dKey: UnsafeMutablePointer<Float>,  // (B, T, K, D), added into
        dValue: UnsafeMutablePointer<Float>,  // (B, T, K, D), added into
        options: EngineOptions = EngineOptions()
    ) {
        let l = HeadLayout(tokens: t, heads: heads, kvHeads: kvHeads, headDim: d)
        let (qStride, kStride) = (l.queryStride, l.kvStride)
        let s = SendableStorage(inputs: [dOut, q, k, v, p], outputs: [dQuery, dKey, dValue])
        // Query heads sharing a key/value head add into the same dK/dV: one share of the
        // (row, key/value head) pairs per thread, their query heads in order.
        TrainerThreads(options).split(batch * kvHeads, minimumPart: 1) { pairs in
            let dp = UnsafeMutablePointer<Float>.allocate(capacity: t * t)  // (T, T)
            defer { dp.deallocate() }
            let (dOut, q, k, v, p) = (s.inputs[0], s.inputs[1], s.inputs[2], s.inputs[3], s.inputs[4])
            let (dQuery, dKey, dValue) = (s.outputs[0], s.outputs[1], s.outputs[2])
            for pair in pairs {
                let b = pair / kvHeads
                let kvh = pair % kvHeads
                for h in kvh * l.group..<(kvh + 1) * l.group {
                    let qOffset = l.queryOffset(row: b, head: h)
                    let kOffset = l.kvOffset(row: b, head: h)
                    let ph = p + (b * heads + h) * t * t
                    // dP (T, T) = dOh (T, D) · Vhᵀ
                    sgemm(
                        transB: true, m: t, n: t, k: d, dOut + qOffset, lda: qStride, v + kOffset,
                        ldb: kStride, dp, ldc: t)
                    // dVh (T, D) += Pᵀ (T, T) · dOh
                    sgemm(
                        transA: true, m: t, n: d, k: t, ph, lda: t, dOut + qOffset, ldb: qStride, beta: 1,
                        dValue + kOffset, ldc: kStride)
                    for i in 0..<t {
                        let pr = ph + i * t
                        let dr = dp + i * t
                        var dot: Float = 0
                        for j in 0...i { dot += pr[j] * dr[j] }
                        for j in 0..<t { dr[j] = j <= i ? pr[j] * (dr[j] - dot) : 0 }
                    }
                    // dQh (T, D) = scale · dS (T, T) · Kh ; dKh += scale · dSᵀ · Qh
                    sgemm(
                        m: t, n: d, k: t, alpha: scale, dp, lda: t, k + kOffset, ldb: kStride,
                        dQuery + qOffset, ldc: qStride)
                    sgemm(
                        transA: true, m: t, n: d, k: t, alpha: scale, dp, lda: t, q + qOffset, ldb: qStride,
                        beta: 1,
                        dKey + kOffset, ldc: kStride)
                }
            }
        }
    }
}

/// Where a (row, head) pair's rows start in (B, T, H, D) queries and (B, T, K, D) keys/values.
private struct HeadLayout {
    let tokens: Int, heads: Int, kvHeads: Int, headDim: Int
    /// Query heads per key/value head.
    var group: Int { heads / kvHeads }
    var queryStride: Int { heads * headDim }
    var kvStride: Int { kvHeads * headDim }
    func queryOffset(row b: Int, head h: Int) -> Int { b * tokens * queryStride + h * headDim }
    /// The offset of the key/value head that query head `h` reads.
    func kvOffset(row b: Int, head h: Int) -> Int { b * tokens * kvStride + h / group * headDim }
}
