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
        let group = heads / kvHeads
        let qStride = heads * d
        let kStride = kvHeads * d
        let q = UnsafeSendableInput(q)
        let k = UnsafeSendableInput(k)
        let v = UnsafeSendableInput(v)
        let out = UnsafeSendablePointer(out)
        let p = UnsafeSendablePointer(p)
        // The (row, head) pairs are independent: one share of them per thread.
        TrainerThreads(options).split(batch * heads, minimumPart: 1) { pairs in
            for pair in pairs {
                let b = pair / heads
                let h = pair % heads
                let kvh = h / group
                let qh = q.pointer + b * t * qStride + h * d
                let kh = k.pointer + b * t * kStride + kvh * d
                let vh = v.pointer + b * t * kStride + kvh * d
                let ph = p.pointer + (b * heads + h) * t * t
                // S (T, T) = scale · Qh (T, D) · Khᵀ
                sgemm(transB: true, m: t, n: t, k: d, alpha: scale, qh, lda: qStride, kh, ldb: kStride, ph, ldc: t)
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
                    m: t, n: d, k: t, ph, lda: t, vh, ldb: kStride, out.pointer + b * t * qStride + h * d, ldc: qStride)
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
        let group = heads / kvHeads
        let qStride = heads * d
        let kStride = kvHeads * d
        let dOut = UnsafeSendableInput(dOut)
        let q = UnsafeSendableInput(q)
        let k = UnsafeSendableInput(k)
        let v = UnsafeSendableInput(v)
        let p = UnsafeSendableInput(p)
        let dQuery = UnsafeSendablePointer(dQuery)
        let dKey = UnsafeSendablePointer(dKey)
        let dValue = UnsafeSendablePointer(dValue)
        // Query heads sharing a key/value head add into the same dK/dV: one share of the
        // (row, key/value head) pairs per thread, their query heads in order.
        TrainerThreads(options).split(batch * kvHeads, minimumPart: 1) { pairs in
            let dp = UnsafeMutablePointer<Float>.allocate(capacity: t * t)  // (T, T)
            defer { dp.deallocate() }
            for pair in pairs {
                let b = pair / kvHeads
                let kvh = pair % kvHeads
                for h in kvh * group..<(kvh + 1) * group {
                    let qOffset = b * t * qStride + h * d
                    let kOffset = b * t * kStride + kvh * d
                    let ph = p.pointer + (b * heads + h) * t * t
                    // dP (T, T) = dOh (T, D) · Vhᵀ
                    sgemm(
                        transB: true, m: t, n: t, k: d, dOut.pointer + qOffset, lda: qStride, v.pointer + kOffset,
                        ldb: kStride, dp, ldc: t)
                    // dVh (T, D) += Pᵀ (T, T) · dOh
                    sgemm(
                        transA: true, m: t, n: d, k: t, ph, lda: t, dOut.pointer + qOffset, ldb: qStride, beta: 1,
                        dValue.pointer + kOffset, ldc: kStride)
                    for i in 0..<t {
                        let pr = ph + i * t
                        let dr = dp + i * t
                        var dot: Float = 0
                        for j in 0...i { dot += pr[j] * dr[j] }
                        for j in 0..<t { dr[j] = j <= i ? pr[j] * (dr[j] - dot) : 0 }
                    }
                    // dQh (T, D) = scale · dS (T, T) · Kh ; dKh += scale · dSᵀ · Qh
                    sgemm(
                        m: t, n: d, k: t, alpha: scale, dp, lda: t, k.pointer + kOffset, ldb: kStride,
                        dQuery.pointer + qOffset, ldc: qStride)
                    sgemm(
                        transA: true, m: t, n: d, k: t, alpha: scale, dp, lda: t, q.pointer + qOffset, ldb: qStride,
                        beta: 1,
                        dKey.pointer + kOffset, ldc: kStride)
                }
            }
        }
    }
}
