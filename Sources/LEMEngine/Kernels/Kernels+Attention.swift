import Foundation

extension Kernels {
    /// Causal multi-head attention with grouped-query heads, an optional sliding window and an
    /// optional score soft-cap.
    ///
    /// Keys and values live in `S` cache slots in any order; `keyPositions[s]` is the absolute
    /// position held by slot `s` (negative for an empty slot). Query `t` at position `p` sees slot
    /// `s` when `keyPositions[s] <= p` and, for a window `W > 0`, `keyPositions[s] > p - W`
    /// (transformers' `sliding_window_overlay`: `kv_idx > q_idx - sliding_window`). Query head `h`
    /// reads key/value head `h / (H / K)`. Scores are `q·k * scale`, then
    /// `tanh(score / softcap) * softcap` when `softcap > 0`, then softmax.
    public static func attention(
        queries q: UnsafePointer<Float>,  // (T, H, D)
        queryPositions: UnsafePointer<Int>,  // (T)
        keys: UnsafePointer<Float>,  // (S, K, D)
        values: UnsafePointer<Float>,  // (S, K, D)
        keyPositions: UnsafePointer<Int>,  // (S)
        tokens: Int, slots: Int, heads: Int, kvHeads: Int, headDim: Int,
        scale: Float, window: Int, softcap: Float,
        scores: UnsafeMutablePointer<Float>,  // (S)
        out: UnsafeMutablePointer<Float>  // (T, H, D)
    ) {
        let group = heads / kvHeads
        for t in 0 ..< tokens {
            let p = queryPositions[t]
            for h in 0 ..< heads {
                let kvh = h / group
                let qv = q + (t * heads + h) * headDim
                var maxScore = -Float.infinity
                for s in 0 ..< slots {
                    let kp = keyPositions[s]
                    if kp < 0 || kp > p || (window > 0 && kp <= p - window) {
                        scores[s] = -Float.infinity
                        continue
                    }
                    let kv = keys + (s * kvHeads + kvh) * headDim
                    var dot: Float = 0
                    for d in 0 ..< headDim { dot += qv[d] * kv[d] }
                    var score = dot * scale
                    if softcap > 0 { score = Kernels.softcap(score, cap: softcap) }
                    scores[s] = score
                    maxScore = max(maxScore, score)
                }
                let o = out + (t * heads + h) * headDim
                for d in 0 ..< headDim { o[d] = 0 }
                guard maxScore > -Float.infinity else { continue }
                var sum: Float = 0
                for s in 0 ..< slots where scores[s] > -Float.infinity {
                    let e = expf(scores[s] - maxScore)
                    scores[s] = e
                    sum += e
                }
                let inv = 1 / sum
                for s in 0 ..< slots where scores[s] > -Float.infinity {
                    let w = scores[s] * inv
                    let vv = values + (s * kvHeads + kvh) * headDim
                    for d in 0 ..< headDim { o[d] += w * vv[d] }
                }
            }
        }
    }
}
