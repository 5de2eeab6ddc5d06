import Foundation
import LEMEngine
import TestSupport
import Testing

@Suite("SIMD/threaded attention vs the naive loop")
struct FastAttentionTests {
    /// Decode-sized (one token: serial over a short cache, split over a long one) and
    /// prefill-sized (many tokens, split over the pool) calls, with GQA, a sliding window, soft-capping and a ring buffer's shuffled slot order.
    @Test(arguments: [
        (1, 40, 4, 1, 256, 0, Float(0)), (1, 33, 9, 3, 64, 16, 0), (64, 64, 4, 2, 64, 0, 0),
        (48, 80, 4, 1, 256, 24, 50), (37, 37, 9, 3, 64, 0, 0),
        // One token over a long cache: split over the pool with the caller's score rows.
        (1, 300, 4, 1, 256, 0, 0), (1, 700, 9, 3, 64, 512, 0), (1, 400, 4, 1, 256, 128, 30)
    ])
    func matchesNaive(tokens: Int, slots: Int, heads: Int, kvHeads: Int, d: Int, window: Int, softcap: Float) {
        var rng = Xoshiro256(seed: UInt64(tokens * 31 + slots))
        let q = randomFloats(tokens * heads * d, rng: &rng)
        let k = randomFloats(slots * kvHeads * d, rng: &rng)
        let v = randomFloats(slots * kvHeads * d, rng: &rng)
        let end = slots + 3
        // Slot s holds position (s * 7) % slots + 3 (a permutation), the chunk ends at `end - 1`.
        let keyPositions = (0..<slots).map { ($0 * 7) % slots + 3 }
        let queryPositions = Array((end - tokens)..<end)
        var fast = [Float](repeating: 0, count: q.count)
        var naive = fast
        let rows = tokens == 1 ? Kernels.threadCount : 1
        var scores = [Float](
            repeating: 0,
            count: rows * Kernels.attentionScratchRow(slots: slots, heads: heads, kvHeads: kvHeads, headDim: d))
        Kernels.attention(
            queries: q, queryPositions: queryPositions, keys: k, values: v, keyPositions: keyPositions,
            tokens: tokens, slots: slots, heads: heads, kvHeads: kvHeads, headDim: d, scale: 0.2, window: window,
            softcap: softcap, scores: &scores, scoreRows: rows, out: &fast)
        var naiveScores = [Float](repeating: 0, count: slots)
        Kernels.attentionNaive(
            queries: q, queryPositions: queryPositions, keys: k, values: v, keyPositions: keyPositions,
            tokens: tokens, slots: slots, heads: heads, kvHeads: kvHeads, headDim: d, scale: 0.2, window: window,
            softcap: softcap, scores: &naiveScores, out: &naive)
        #expect(checkClose(fast, naive, tol: 2e-5, label: "attention T=\(tokens) S=\(slots)") == nil)
        // The portable C body, on the caller and every pooled worker alike.
        var portable = naive
        Kernels.attention(
            queries: q, queryPositions: queryPositions, keys: k, values: v, keyPositions: keyPositions,
            tokens: tokens, slots: slots, heads: heads, kvHeads: kvHeads, headDim: d, scale: 0.2, window: window,
            softcap: softcap, scores: &scores, scoreRows: rows, out: &portable, options: EngineOptions(simd: false))
        #expect(checkClose(portable, naive, tol: 2e-5, label: "portable attention T=\(tokens) S=\(slots)") == nil)
    }

    /// Four rows of a head at a time (a chunk's path) give each row exactly what attending it
    /// alone gives, tails of 1–3 rows and masked diagonal slots included.
    @Test(arguments: [(13, 20, 9, 3, 64, 0), (6, 30, 4, 1, 256, 8), (3, 9, 2, 2, 40, 0)])
    func fourRowsEqualOneRow(tokens: Int, slots: Int, heads: Int, kvHeads: Int, d: Int, window: Int) {
        var rng = Xoshiro256(seed: UInt64(tokens * 7 + d))
        let q = randomFloats(tokens * heads * d, rng: &rng)
        let k = randomFloats(slots * kvHeads * d, rng: &rng)
        let v = randomFloats(slots * kvHeads * d, rng: &rng)
        let keyPositions = Array(0..<slots)
        let queryPositions = Array((slots - tokens)..<slots)
        var scores = [Float](
            repeating: 0, count: Kernels.attentionScratchRow(slots: slots, heads: heads, kvHeads: kvHeads, headDim: d))
        var chunk = [Float](repeating: 0, count: q.count)
        var single = chunk
        Kernels.attention(
            queries: q, queryPositions: queryPositions, keys: k, values: v, keyPositions: keyPositions,
            tokens: tokens, slots: slots, heads: heads, kvHeads: kvHeads, headDim: d, scale: 0.3, window: window,
            softcap: 0, scores: &scores, out: &chunk)
        for t in 0..<tokens {
            let row = Array(q[(t * heads * d)..<((t + 1) * heads * d)])
            var out = [Float](repeating: 0, count: heads * d)
            Kernels.attention(
                queries: row, queryPositions: [queryPositions[t]], keys: k, values: v, keyPositions: keyPositions,
                tokens: 1, slots: slots, heads: heads, kvHeads: kvHeads, headDim: d, scale: 0.3, window: window,
                softcap: 0, scores: &scores, out: &out)
            single.replaceSubrange((t * heads * d)..<((t + 1) * heads * d), with: out)
        }
        #expect(chunk == single)
    }

    /// Slots split into runs (a shared prefix, then a cache's own slots in ring order) give bit for
    /// bit what one run of the same slots gives, and the naive loop's result: one token (split
    /// over the pool by slots on a long cache) and a chunk, with GQA, a window and soft-capping, the
    /// portable body too.
    @Test(arguments: [
        (1, 300, 20, 4, 1, 256, 0, Float(0)), (1, 30, 7, 9, 3, 64, 0, 0), (24, 500, 40, 4, 1, 64, 0, 0),
        (5, 12, 9, 4, 2, 32, 6, 30), (1, 0, 50, 2, 1, 16, 0, 0), (3, 64, 1, 4, 4, 16, 0, 0)
    ])
    func runsMatchOneRun(
        tokens: Int, sharedSlots: Int, ownSlots: Int, heads: Int, kvHeads: Int, d: Int, window: Int, softcap: Float
    ) {
        var rng = Xoshiro256(seed: UInt64(tokens * 13 + sharedSlots + ownSlots))
        let slots = sharedSlots + ownSlots
        let q = randomFloats(tokens * heads * d, rng: &rng)
        let k = randomFloats(slots * kvHeads * d, rng: &rng)
        let v = randomFloats(slots * kvHeads * d, rng: &rng)
        // The shared run holds 0 ..< sharedSlots; the own run the rest, rotated like a ring.
        let ownPositions = (0..<ownSlots).map { sharedSlots + ($0 * 5 + 2) % max(1, ownSlots) }
        let keyPositions = Array(0..<sharedSlots) + ownPositions
        let queryPositions = Array((slots - tokens)..<slots)
        var naive = [Float](repeating: 0, count: q.count)
        var naiveScores = [Float](repeating: 0, count: max(1, slots))
        Kernels.attentionNaive(
            queries: q, queryPositions: queryPositions, keys: k, values: v, keyPositions: keyPositions,
            tokens: tokens, slots: slots, heads: heads, kvHeads: kvHeads, headDim: d, scale: 0.2, window: window,
            softcap: softcap, scores: &naiveScores, out: &naive)
        let rows = Kernels.threadCount
        var scores = [Float](
            repeating: 0,
            count: rows * Kernels.attentionScratchRow(slots: slots, heads: heads, kvHeads: kvHeads, headDim: d))
        let row = kvHeads * d
        for options in [EngineOptions(), EngineOptions(simd: false)] {
            var whole = [Float](repeating: 0, count: q.count)
            var split = whole
            Kernels.attention(
                queries: q, queryPositions: queryPositions, keys: k, values: v, keyPositions: keyPositions,
                tokens: tokens, slots: slots, heads: heads, kvHeads: kvHeads, headDim: d, scale: 0.2,
                window: window, softcap: softcap, scores: &scores, scoreRows: rows, out: &whole, options: options)
            k.withUnsafeBufferPointer { kb in
                v.withUnsafeBufferPointer { vb in
                    keyPositions.withUnsafeBufferPointer { pb in
                        let segments = [
                            Kernels.KeySegment(
                                keys: kb.baseAddress!, values: vb.baseAddress!, positions: pb.baseAddress!,
                                slots: sharedSlots),
                            Kernels.KeySegment(
                                keys: kb.baseAddress! + sharedSlots * row, values: vb.baseAddress! + sharedSlots * row,
                                positions: pb.baseAddress! + sharedSlots, slots: ownSlots)
                        ]
                        segments.withUnsafeBufferPointer { segments in
                            Kernels.attention(
                                queries: q, queryPositions: queryPositions, segments: segments, tokens: tokens,
                                heads: heads, kvHeads: kvHeads, headDim: d, scale: 0.2, window: window,
                                softcap: softcap, scores: &scores, scoreRows: rows, out: &split, options: options)
                        }
                    }
                }
            }
            let label = "runs T=\(tokens) S=\(sharedSlots)+\(ownSlots) simd=\(options.simd)"
            #expect(split == whole, "\(label): not bit for bit one run's result")
            #expect(checkClose(split, naive, tol: 2e-5, label: label) == nil)
        }
    }
}
