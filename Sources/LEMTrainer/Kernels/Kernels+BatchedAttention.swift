import Foundation
import LEMEngine

// Causal attention over a batch of equal-width rows through BLAS, forward and backward, one
// (row, head) at a time: S = scale·Q Kᵀ, P = softmax(S masked), O = P V. The naive generic
// `attentionForward` / `attentionBackward` (finite-difference checked) are its oracles.
//
// Legend: B batch rows, T tokens per row, H query heads, K key/value heads, D head dim.

extension Kernels {
    /// Forward of causal grouped-query attention with an optional sliding window, every row of
    /// the batch at positions 0 ..< T; writes the output and the probabilities.
    public static func batchedAttentionForward(
        query q: UnsafePointer<Float>,  // (B, T, H, D)
        key k: UnsafePointer<Float>,  // (B, T, K, D)
        value v: UnsafePointer<Float>,  // (B, T, K, D)
        batch: Int, tokens t: Int, heads: Int, kvHeads: Int, headDim d: Int, scale: Float, window: Int?,
        output out: UnsafeMutablePointer<Float>,  // (B, T, H, D)
        probabilities p: UnsafeMutablePointer<Float>  // (B, H, T, T), zero outside the mask
    ) {
        let group = heads / kvHeads, qStride = heads * d, kStride = kvHeads * d
        for b in 0 ..< batch {
            for h in 0 ..< heads {
                let kvh = h / group
                let qh = q + b * t * qStride + h * d, kh = k + b * t * kStride + kvh * d, vh = v + b * t * kStride + kvh * d
                let ph = p + (b * heads + h) * t * t
                // S (T, T) = scale · Qh (T, D) · Khᵀ
                sgemm(transB: true, m: t, n: t, k: d, alpha: scale, qh, lda: qStride, kh, ldb: kStride, ph, ldc: t)
                for i in 0 ..< t {
                    let row = ph + i * t
                    let first = window.map { max(0, i - $0 + 1) } ?? 0
                    var maximum = -Float.infinity
                    for j in first ... i { maximum = max(maximum, row[j]) }
                    var total: Float = 0
                    for j in 0 ..< t {
                        if j >= first && j <= i {
                            row[j] = exp(row[j] - maximum)
                            total += row[j]
                        } else {
                            row[j] = 0
                        }
                    }
                    let inverse = 1 / total
                    for j in first ... i { row[j] *= inverse }
                }
                // Oh (T, D) = P (T, T) · Vh (T, D)
                sgemm(m: t, n: d, k: t, ph, lda: t, vh, ldb: kStride, out + b * t * qStride + h * d, ldc: qStride)
            }
        }
    }

    /// Backward of `batchedAttentionForward`: writes `dQuery` and adds into `dKey` / `dValue`
    /// (query heads sharing a key/value head accumulate there).
    ///
    /// With dP = dO Vᵀ: dV += Pᵀ dO, dS = P ⊙ (dP − rowsum(dP ⊙ P)), dQ = scale·dS K,
    /// dK += scale·dSᵀ Q.
    public static func batchedAttentionBackward(
        _ dOut: UnsafePointer<Float>,  // (B, T, H, D)
        query q: UnsafePointer<Float>,  // (B, T, H, D)
        key k: UnsafePointer<Float>,  // (B, T, K, D)
        value v: UnsafePointer<Float>,  // (B, T, K, D)
        probabilities p: UnsafePointer<Float>,  // (B, H, T, T)
        batch: Int, tokens t: Int, heads: Int, kvHeads: Int, headDim d: Int, scale: Float,
        dQuery: UnsafeMutablePointer<Float>,  // (B, T, H, D), overwritten
        dKey: UnsafeMutablePointer<Float>,  // (B, T, K, D), added into
        dValue: UnsafeMutablePointer<Float>  // (B, T, K, D), added into
    ) {
        let group = heads / kvHeads, qStride = heads * d, kStride = kvHeads * d
        let dp = UnsafeMutablePointer<Float>.allocate(capacity: t * t)  // (T, T)
        defer { dp.deallocate() }
        for b in 0 ..< batch {
            for h in 0 ..< heads {
                let kvh = h / group
                let qOffset = b * t * qStride + h * d, kOffset = b * t * kStride + kvh * d
                let ph = p + (b * heads + h) * t * t
                // dP (T, T) = dOh (T, D) · Vhᵀ
                sgemm(transB: true, m: t, n: t, k: d, dOut + qOffset, lda: qStride, v + kOffset, ldb: kStride, dp, ldc: t)
                // dVh (T, D) += Pᵀ (T, T) · dOh
                sgemm(transA: true, m: t, n: d, k: t, ph, lda: t, dOut + qOffset, ldb: qStride, beta: 1,
                      dValue + kOffset, ldc: kStride)
                for i in 0 ..< t {
                    let pr = ph + i * t, dr = dp + i * t
                    var dot: Float = 0
                    for j in 0 ... i { dot += pr[j] * dr[j] }
                    for j in 0 ..< t { dr[j] = j <= i ? pr[j] * (dr[j] - dot) : 0 }
                }
                // dQh (T, D) = scale · dS (T, T) · Kh ; dKh += scale · dSᵀ · Qh
                sgemm(m: t, n: d, k: t, alpha: scale, dp, lda: t, k + kOffset, ldb: kStride, dQuery + qOffset, ldc: qStride)
                sgemm(transA: true, m: t, n: d, k: t, alpha: scale, dp, lda: t, q + qOffset, ldb: qStride, beta: 1,
                      dKey + kOffset, ldc: kStride)
            }
        }
    }
}
