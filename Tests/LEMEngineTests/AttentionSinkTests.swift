import Foundation
import LEMEngine
import TestSupport
import Testing

/// GPT-OSS's per-head attention sinks through every attention path.
@Suite("Attention sinks")
struct AttentionSinkTests {
    /// Chunks (four rows of a head at a time), one token over a short cache and one token split
    /// over the pool, with a window and GQA: every path honours the per-head sink like the loop.
    @Test(arguments: [(20, 20, 4, 2, 16, 8), (1, 30, 4, 2, 16, 0), (1, 700, 8, 2, 64, 0), (1, 500, 4, 1, 64, 128)])
    func matchesNaive(tokens: Int, slots: Int, heads: Int, kvHeads: Int, d: Int, window: Int) {
        var rng = Xoshiro256(seed: UInt64(tokens * 13 + slots))
        let q = randomFloats(tokens * heads * d, rng: &rng)
        let k = randomFloats(slots * kvHeads * d, rng: &rng)
        let v = randomFloats(slots * kvHeads * d, rng: &rng)
        let sinks = (0..<heads).map { Float($0) - 1.5 }
        let keyPositions = Array(0..<slots)
        let queryPositions = Array((slots - tokens)..<slots)
        let rows = tokens == 1 ? Kernels.threadCount : 1
        var scores = [Float](
            repeating: 0,
            count: rows * Kernels.attentionScratchRow(slots: slots, heads: heads, kvHeads: kvHeads, headDim: d))
        var naiveScores = [Float](repeating: 0, count: slots)
        var naive = [Float](repeating: 0, count: q.count)
        var plain = naive
        Kernels.attentionNaive(
            queries: q, queryPositions: queryPositions, keys: k, values: v, keyPositions: keyPositions,
            tokens: tokens, slots: slots, heads: heads, kvHeads: kvHeads, headDim: d, scale: 0.25, window: window,
            softcap: 0, sinks: sinks, scores: &naiveScores, out: &naive)
        Kernels.attentionNaive(
            queries: q, queryPositions: queryPositions, keys: k, values: v, keyPositions: keyPositions,
            tokens: tokens, slots: slots, heads: heads, kvHeads: kvHeads, headDim: d, scale: 0.25, window: window,
            softcap: 0, scores: &naiveScores, out: &plain)
        #expect(compare(naive, plain).maxAbs > 1e-3, "the sinks change the result")
        for simd in [true, false] {
            var fast = [Float](repeating: 0, count: q.count)
            Kernels.attention(
                queries: q, queryPositions: queryPositions, keys: k, values: v, keyPositions: keyPositions,
                tokens: tokens, slots: slots, heads: heads, kvHeads: kvHeads, headDim: d, scale: 0.25, window: window,
                softcap: 0, sinks: sinks, scores: &scores, scoreRows: rows, out: &fast,
                options: EngineOptions(simd: simd))
            #expect(checkClose(fast, naive, tol: 2e-5, label: "sinks T=\(tokens) S=\(slots) simd \(simd)") == nil)
        }
    }

    /// The loop against the definition: softmax over [scores, sink] with the sink's column dropped.
    @Test func naiveIsTheDefinition() {
        let q: [Float] = [1, 0]
        let k: [Float] = [1, 0, 0, 1]
        let v: [Float] = [2, 0, 0, 3]
        var scores = [Float](repeating: 0, count: 2)
        var out = [Float](repeating: 0, count: 2)
        Kernels.attentionNaive(
            queries: q, queryPositions: [1], keys: k, values: v, keyPositions: [0, 1], tokens: 1, slots: 2, heads: 1,
            kvHeads: 1, headDim: 2, scale: 1, window: 0, softcap: 0, sinks: [0.5], scores: &scores, out: &out)
        let e = [exp(1.0), exp(0.0), exp(0.5)]
        let sum = e.reduce(0, +)
        #expect(abs(Double(out[0]) - 2 * e[0] / sum) < 1e-6)
        #expect(abs(Double(out[1]) - 3 * e[1] / sum) < 1e-6)
    }
}
