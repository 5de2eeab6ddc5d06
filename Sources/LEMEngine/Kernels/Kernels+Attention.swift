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
    /// `tanh(score / softcap) * softcap` when `softcap > 0`, then softmax; with `sinks`, head `h`'s
    /// `sinks[h]` is one more logit in the softmax that has no value row (transformers
    /// `GptOssAttention`: softmax over `[scores, sink]`, the sink's column dropped).
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
        sinks: UnsafePointer<Float>? = nil,  // (H)
        scores: UnsafeMutablePointer<Float>,  // (S)
        out: UnsafeMutablePointer<Float>  // (T, H, D)
    ) {
        let group = heads / kvHeads
        for t in 0..<tokens {
            let p = queryPositions[t]
            for h in 0..<heads {
                let kvh = h / group
                let qv = q + (t * heads + h) * headDim
                var maxScore = -Float.infinity
                for s in 0..<slots {
                    let kp = keyPositions[s]
                    if kp < 0 || kp > p || (window > 0 && kp <= p - window) {
                        scores[s] = -Float.infinity
                        continue
                    }
                    let kv = keys + (s * kvHeads + kvh) * headDim
                    var dot: Float = 0
                    for d in 0..<headDim { dot += qv[d] * kv[d] }
                    var score = dot * scale
                    if softcap > 0 { score = Kernels.softcap(score, cap: softcap) }
                    scores[s] = score
                    maxScore = max(maxScore, score)
                }
                let o = out + (t * heads + h) * headDim
                for d in 0..<headDim { o[d] = 0 }
                guard maxScore > -Float.infinity else { continue }
                let sink = sinks?[h] ?? -Float.infinity
                let top = max(maxScore, sink)
                var sum: Float = 0
                for s in 0..<slots where scores[s] > -Float.infinity {
                    let e = expf(scores[s] - top)
                    scores[s] = e
                    sum += e
                }
                sum += expf(sink - top)
                let inv = 1 / sum
                for s in 0..<slots where scores[s] > -Float.infinity {
                    let w = scores[s] * inv
                    let vv = values + (s * kvHeads + kvh) * headDim
                    for d in 0..<headDim { o[d] += w * vv[d] }
                }
            }
        }
    }
}

extension Kernels {
    /// One run of cache slots for `attention(segments:)` (the kernels' `lem_kv_run`): key and value
    /// rows (slots, K, D) and each slot's absolute position.
    public typealias KeySegment = lem_kv_run

    /// Floats of one worker's row of the attention scratch (`attention`'s `scores`): a score row
    /// per query head of a KV group, then the partial outputs and softmax statistics of the
    /// decode split.
    public static func attentionScratchRow(slots: Int, heads: Int, kvHeads: Int, headDim: Int) -> Int {
        max(heads / max(1, kvHeads), 4) * slots + heads * (headDim + 2)
    }

    /// Causal multi-head attention exactly as `attentionNaive` defines it, with AVX2 dot products
    /// and value accumulation (`attention.c`), four tokens of a head at a time (each key and value
    /// row loaded once for them). Work is split over the worker pool when there is enough of it: a
    /// chunk of tokens (a prefill) by (four tokens, head) units, each worker with its own scratch
    /// row; one token over a long cache by slots, each worker attending every head over its
    /// share of the cache (each key and value row read once per KV group), the shares merged by
    /// their softmax statistics. `scores` holds `scoreRows` rows of `attentionScratchRow` floats;
    /// with fewer rows than workers a prefill allocates its own and a token runs on one thread.
    /// `options.simd` chooses the C bodies (AVX2 or portable) for every worker.
    public static func attention(
        queries q: UnsafePointer<Float>,  // (T, H, D)
        queryPositions: UnsafePointer<Int>,  // (T)
        keys: UnsafePointer<Float>,  // (S, K, D)
        values: UnsafePointer<Float>,  // (S, K, D)
        keyPositions: UnsafePointer<Int>,  // (S)
        tokens: Int, slots: Int, heads: Int, kvHeads: Int, headDim: Int,
        scale: Float, window: Int, softcap: Float,
        sinks: UnsafePointer<Float>? = nil,  // (H)
        scores: UnsafeMutablePointer<Float>,  // (scoreRows, attentionScratchRow)
        scoreRows: Int = 1,
        out: UnsafeMutablePointer<Float>,  // (T, H, D)
        options: EngineOptions = EngineOptions()
    ) {
        var run = KeySegment(keys: keys, values: values, positions: keyPositions, slots: slots)
        withUnsafePointer(to: &run) { run in
            attention(
                queries: q, queryPositions: queryPositions, segments: UnsafeBufferPointer(start: run, count: 1),
                tokens: tokens, heads: heads, kvHeads: kvHeads, headDim: headDim, scale: scale, window: window,
                softcap: softcap, sinks: sinks, scores: scores, scoreRows: scoreRows, out: out, options: options)
        }
    }

    /// `attention` over slots held in several runs (`segments`, taken in order): a prefix shared in
    /// place by several caches, then a cache's own slots. The runs are one slot sequence to every
    /// kernel (`lem_kv_run`), so the result is bit for bit what one run of the same slots gives.
    public static func attention(
        queries q: UnsafePointer<Float>,  // (T, H, D)
        queryPositions: UnsafePointer<Int>,  // (T)
        segments: UnsafeBufferPointer<KeySegment>,
        tokens: Int, heads: Int, kvHeads: Int, headDim: Int,
        scale: Float, window: Int, softcap: Float,
        sinks: UnsafePointer<Float>? = nil,  // (H)
        scores: UnsafeMutablePointer<Float>,  // (scoreRows, attentionScratchRow)
        scoreRows: Int = 1,
        out: UnsafeMutablePointer<Float>,  // (T, H, D)
        options: EngineOptions = EngineOptions()
    ) {
        attend(
            AttentionJob(
                q: q, queryPositions: queryPositions, runs: segments.baseAddress!, runCount: Int32(segments.count),
                slots: segments.reduce(0) { $0 + Int($1.slots) }, heads: heads, kvHeads: kvHeads, headDim: headDim,
                scale: scale, window: window, softcap: softcap, sinks: sinks, scores: scores, out: out,
                tokens: tokens, options: options.kernel),
            scoreRows: scoreRows)
    }

    /// Runs `job` on the caller or the pool (see `attention`).
    private static func attend(_ job: AttentionJob, scoreRows: Int) {
        var job = job
        let (tokens, heads, kvHeads, headDim, slots, scores) = (
            job.tokens, job.heads, job.kvHeads, job.headDim, job.slots, job.scores
        )
        let work = tokens * heads * slots * headDim
        let workers = threadCount
        let own = scoreRows >= workers
        // Below ~64k multiply-adds (a short cache) waking a worker costs more than it saves.
        if workers > 1, tokens == 1, own, work >= 1 << 16, slots >= 2 * workers {
            attendSplitBySlots(job, workers: workers)
            return
        }
        if workers <= 1 || job.units < workers || work < 1 << 16 {
            job.run(units: 0..<job.units, scores: scores)
            return
        }
        // Each worker needs its own score row: the caller's when it has them, else a buffer a
        // prefill-sized call can afford.
        let stride =
            own ? attentionScratchRow(slots: slots, heads: heads, kvHeads: kvHeads, headDim: headDim) : 4 * slots
        let rows = own ? scores : UnsafeMutablePointer<Float>.allocate(capacity: workers * 4 * slots)
        defer { if !own { rows.deallocate() } }
        job.scores = rows
        job.scoreStride = stride
        withUnsafeMutablePointer(to: &job) { ptr in
            lem_pool_run(
                { ctx, worker, workers in
                    let job = ctx!.assumingMemoryBound(to: AttentionJob.self)
                    let n = job.pointee.units
                    let w = Int(worker)
                    let count = Int(workers)
                    let lo = n * w / count
                    let hi = n * (w + 1) / count
                    job.pointee.run(units: lo..<hi, scores: job.pointee.scores + w * job.pointee.scoreStride)
                }, ptr)
        }
    }

    /// One token: worker w attends every head over slots [S·w/W, S·(w+1)/W) into its scratch row
    /// (`lem_attend_partial`), then the caller merges the shares: with M = max_w m_w,
    /// out = Σ_w e^{m_w − M} o_w / Σ_w e^{m_w − M} l_w.
    private static func attendSplitBySlots(_ job: AttentionJob, workers: Int) {
        var job = job
        let heads = job.heads
        let d = job.headDim
        let group = heads / job.kvHeads
        let row = attentionScratchRow(slots: job.slots, heads: heads, kvHeads: job.kvHeads, headDim: d)
        job.scoreStride = row
        withUnsafeMutablePointer(to: &job) { ptr in
            lem_pool_run(
                { ctx, worker, workers in
                    let job = ctx!.assumingMemoryBound(to: AttentionJob.self).pointee
                    let w = Int(worker)
                    let count = Int(workers)
                    let group = job.heads / job.kvHeads
                    let d = job.headDim
                    let s0 = job.slots * w / count
                    let s1 = job.slots * (w + 1) / count
                    let scratch = job.scores + w * job.scoreStride
                    let partial = scratch + group * job.slots  // (H, D), then m (H), then l (H)
                    let m = partial + job.heads * d
                    let l = m + job.heads
                    for kvh in 0..<job.kvHeads {
                        let h0 = kvh * group
                        lem_attend_partial(
                            job.q + h0 * d, Int32(group), job.runs, job.runCount, kvh * d, job.kvHeads * d,
                            Int32(s0), Int32(s1), Int32(d), job.queryPositions[0], job.window, job.scale,
                            job.softcap, scratch, partial + h0 * d, m + h0, l + h0, job.options)
                    }
                }, ptr)
        }
        // Merge on the caller (a few hundred floats per head).
        let base = job.scores + group * job.slots
        for h in 0..<heads {
            var top = -Float.infinity
            for w in 0..<workers { top = max(top, base[w * row + heads * d + h]) }
            let o = job.out + h * d
            o.update(repeating: 0, count: d)
            guard top > -Float.infinity else { continue }
            let sink = job.sinks?[h] ?? -Float.infinity
            top = max(top, sink)
            var total = expf(sink - top)
            for w in 0..<workers {
                let share = base + w * row
                let mw = share[heads * d + h]
                guard mw > -Float.infinity else { continue }
                let factor = expf(mw - top)
                total += factor * share[heads * d + heads + h]
                for i in 0..<d { o[i] += factor * share[h * d + i] }
            }
            let inv = 1 / total
            for i in 0..<d { o[i] *= inv }
        }
    }
}

/// The arguments of one `Kernels.attention` call, shared read-only by the pool's workers (each
/// writes only its own (token, head) rows of `out` and its own score row).
private struct AttentionJob {
    let q: UnsafePointer<Float>
    let queryPositions: UnsafePointer<Int>
    /// The cache's slots, in runs (`lem_kv_run`).
    let runs: UnsafePointer<lem_kv_run>
    let runCount: Int32
    /// Slots in all the runs.
    let slots: Int
    let heads: Int, kvHeads: Int, headDim: Int
    let scale: Float, window: Int, softcap: Float
    /// (H) one sink logit per query head, nil for none.
    let sinks: UnsafePointer<Float>?
    var scores: UnsafeMutablePointer<Float>
    /// Floats between two workers' score rows.
    var scoreStride = 0
    let out: UnsafeMutablePointer<Float>
    /// Query rows (tokens).
    let tokens: Int
    /// The caller's kernel choices, used by every worker.
    let options: lem_options
    /// Work units: (block of four tokens, head), unit = block · H + h.
    var units: Int { (tokens + 3) / 4 * heads }

    /// Attends the units `range` (unit = b · H + h: tokens 4b ..< 4b + 4 of head h) with `scores`
    /// (4 · slots floats) as scratch (`lem_attend_rows4`).
    func run(units range: Range<Int>, scores: UnsafeMutablePointer<Float>) {
        let group = heads / kvHeads
        let d = headDim
        for unit in range {
            let t0 = unit / heads * 4
            let h = unit % heads
            let kvh = h / group
            let n = min(4, tokens - t0)
            let row = (t0 * heads + h) * d
            lem_attend_rows4(
                q + row, heads * d, Int32(n), queryPositions + t0, runs, runCount, kvh * d, kvHeads * d, Int32(d),
                window, scale, softcap, sinks?[h] ?? -.infinity, scores, out + row, heads * d, options)
        }
    }
}

extension lem_kv_run {
    /// A run of `slots` slots.
    public init(keys: UnsafePointer<Float>, values: UnsafePointer<Float>, positions: UnsafePointer<Int>, slots: Int) {
        self.init(keys: keys, values: values, pos: positions, slots: Int32(slots))
    }
}
