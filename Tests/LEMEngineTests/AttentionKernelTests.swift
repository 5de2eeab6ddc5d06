import Foundation
import LEMEngine
import TestSupport
import Testing

@Suite("Attention kernel")
struct AttentionKernelTests {
    /// Double-precision attention over contiguous keys at positions 0..<S with an explicit mask.
    func reference(
        q: [Float], k: [Float], v: [Float], queryPositions: [Int], slots: Int, heads: Int, kvHeads: Int,
        d: Int, scale: Double, window: Int, softcap: Double
    ) -> [Double] {
        var out = [Double](repeating: 0, count: q.count)
        for (t, p) in queryPositions.enumerated() {
            for h in 0..<heads {
                let kvh = h * kvHeads / heads
                var scores = [Double](repeating: -.infinity, count: slots)
                for s in 0..<slots {
                    let visible = s <= p && (window == 0 || p - s < window)
                    guard visible else { continue }
                    var dot = 0.0
                    for i in 0..<d {
                        dot += Double(q[(t * heads + h) * d + i]) * Double(k[(s * kvHeads + kvh) * d + i])
                    }
                    var score = dot * scale
                    if softcap > 0 { score = tanh(score / softcap) * softcap }
                    scores[s] = score
                }
                let m = scores.max()!
                let e = scores.map { $0 == -.infinity ? 0 : exp($0 - m) }
                let sum = e.reduce(0, +)
                for s in 0..<slots where e[s] > 0 {
                    for i in 0..<d {
                        out[(t * heads + h) * d + i] += e[s] / sum * Double(v[(s * kvHeads + kvh) * d + i])
                    }
                }
            }
        }
        return out
    }

    @Test(
        "causal GQA attention with window and softcap matches a double reference",
        arguments: [
            (0, 0.0), (3, 0.0), (0, 1.5), (2, 0.7)
        ])
    func matchesReference(window: Int, softcap: Double) {
        var rng = Xoshiro256(seed: UInt64(10 + window))
        let slots = 7
        let heads = 4
        let kvHeads = 2
        let d = 6
        let queryPositions = [4, 5, 6]
        let q = randomFloats(queryPositions.count * heads * d, rng: &rng)
        let k = randomFloats(slots * kvHeads * d, rng: &rng)
        let v = randomFloats(slots * kvHeads * d, rng: &rng)
        var out = [Float](repeating: 0, count: q.count)
        var scores = [Float](
            repeating: 0, count: Kernels.attentionScratchRow(slots: slots, heads: heads, kvHeads: kvHeads, headDim: d))
        Kernels.attention(
            queries: q, queryPositions: queryPositions, keys: k, values: v, keyPositions: Array(0..<slots),
            tokens: queryPositions.count, slots: slots, heads: heads, kvHeads: kvHeads, headDim: d,
            scale: 0.4, window: window, softcap: Float(softcap), scores: &scores, out: &out)
        let expected = reference(
            q: q, k: k, v: v, queryPositions: queryPositions, slots: slots, heads: heads, kvHeads: kvHeads, d: d,
            scale: 0.4, window: window, softcap: softcap)
        #expect(checkClose(out, expected, tol: 1e-5, label: "attention w=\(window) cap=\(softcap)") == nil)
    }

    @Test("slot order does not matter and empty slots are ignored")
    func slotOrder() {
        var rng = Xoshiro256(seed: 20)
        let (slots, heads, kvHeads, d) = (5, 2, 1, 4)
        let q = randomFloats(heads * d, rng: &rng)
        let k = randomFloats(slots * d, rng: &rng)
        let v = randomFloats(slots * d, rng: &rng)
        var outA = [Float](repeating: 0, count: q.count)
        var outB = outA
        var scores = [Float](
            repeating: 0,
            count: Kernels.attentionScratchRow(slots: slots + 1, heads: heads, kvHeads: kvHeads, headDim: d))
        Kernels.attention(
            queries: q, queryPositions: [4], keys: k, values: v, keyPositions: [0, 1, 2, 3, 4], tokens: 1,
            slots: slots, heads: heads, kvHeads: kvHeads, headDim: d, scale: 0.5, window: 0, softcap: 0,
            scores: &scores, out: &outA)
        // Reverse the slots and add an empty one (position -1) at the end.
        let order = [4, 3, 2, 1, 0]
        let kr = order.flatMap { k[($0 * d)..<($0 * d + d)] } + [Float](repeating: 9, count: d)
        let vr = order.flatMap { v[($0 * d)..<($0 * d + d)] } + [Float](repeating: 9, count: d)
        Kernels.attention(
            queries: q, queryPositions: [4], keys: kr, values: vr, keyPositions: order + [-1], tokens: 1,
            slots: slots + 1, heads: heads, kvHeads: kvHeads, headDim: d, scale: 0.5, window: 0, softcap: 0,
            scores: &scores, out: &outB)
        #expect(checkClose(outB, outA, tol: 1e-6, label: "permuted slots") == nil)
    }
}
