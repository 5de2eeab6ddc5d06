import CLEMKernels
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
    ///
    /// The plain loop: the oracle of `attention`.
    public static func attentionNaive(
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

extension Kernels {
    /// Causal multi-head attention exactly as `attentionNaive` defines it, with SIMD dot products
    /// and value accumulation; a chunk with enough work (a prefill, or one token's heads over a
    /// long enough cache) is split over the worker pool by (token, head) pairs, each worker with
    /// its own score row: row w of `scores` when it holds `scoreRows` ≥ workers rows, else a
    /// fresh buffer. A pair's arithmetic does not depend on the split.
    public static func attention(
        queries q: UnsafePointer<Float>,  // (T, H, D)
        queryPositions: UnsafePointer<Int>,  // (T)
        keys: UnsafePointer<Float>,  // (S, K, D)
        values: UnsafePointer<Float>,  // (S, K, D)
        keyPositions: UnsafePointer<Int>,  // (S)
        tokens: Int, slots: Int, heads: Int, kvHeads: Int, headDim: Int,
        scale: Float, window: Int, softcap: Float,
        scores: UnsafeMutablePointer<Float>,  // (scoreRows, S)
        scoreRows: Int = 1,
        out: UnsafeMutablePointer<Float>  // (T, H, D)
    ) {
        var job = AttentionJob(
            q: q, queryPositions: queryPositions, keys: keys, values: values, keyPositions: keyPositions,
            slots: slots, heads: heads, kvHeads: kvHeads, headDim: headDim, scale: scale, window: window,
            softcap: softcap, scores: scores, out: out, pairs: tokens * heads)
        let work = tokens * heads * slots * headDim
        let workers = threadCount
        // Below ~64k multiply-adds (a short cache) waking a worker costs more than it saves.
        if workers <= 1 || tokens * heads < workers || work < 1 << 16 {
            job.run(pairs: 0 ..< job.pairs, scores: scores)
            return
        }
        // Each worker needs its own score row: the caller's when it has them (decode allocates
        // nothing), else a buffer a prefill-sized call can afford.
        let own = scoreRows >= workers
        let rows = own ? scores : UnsafeMutablePointer<Float>.allocate(capacity: workers * slots)
        defer { if !own { rows.deallocate() } }
        job.scores = rows
        withUnsafeMutablePointer(to: &job) { ptr in
            lem_pool_run({ ctx, worker, workers in
                let job = ctx!.assumingMemoryBound(to: AttentionJob.self)
                let n = job.pointee.pairs, w = Int(worker), count = Int(workers)
                let lo = n * w / count, hi = n * (w + 1) / count
                job.pointee.run(pairs: lo ..< hi, scores: job.pointee.scores + w * job.pointee.slots)
            }, ptr)
        }
    }
}

/// The arguments of one `Kernels.attention` call, shared read-only by the pool's workers (each
/// writes only its own (token, head) rows of `out` and its own score row).
private struct AttentionJob {
    let q: UnsafePointer<Float>
    let queryPositions: UnsafePointer<Int>
    let keys: UnsafePointer<Float>
    let values: UnsafePointer<Float>
    let keyPositions: UnsafePointer<Int>
    let slots: Int, heads: Int, kvHeads: Int, headDim: Int
    let scale: Float, window: Int, softcap: Float
    var scores: UnsafeMutablePointer<Float>
    let out: UnsafeMutablePointer<Float>
    let pairs: Int

    /// Attends the (token, head) pairs `range` (pair = t · H + h) using `scores` as the score row
    /// (`lem_attend_row`: AVX2 + FMA dot products and value accumulation where the CPU has them).
    func run(pairs range: Range<Int>, scores: UnsafeMutablePointer<Float>) {
        let group = heads / kvHeads, d = headDim
        for pair in range {
            let t = pair / heads, h = pair % heads
            let kvh = h / group
            lem_attend_row(
                q + pair * d, keys + kvh * d, values + kvh * d, kvHeads * d, keyPositions, Int32(slots), Int32(d),
                queryPositions[t], window, scale, softcap, scores, out + pair * d)
        }
    }
}
