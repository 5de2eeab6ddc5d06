import LEMEngine
import TestSupport
import Testing

@testable import LEMTrainer

/// Causal attention (GQA, sliding window, scale): forward properties and backward against
/// central finite differences in Float64.
@Suite struct KernelsAttentionBackwardTests {
    struct Shape: Sendable, CustomStringConvertible {
        var tokens: Int, heads: Int, kvHeads: Int, headDim: Int, window: Int?
        var description: String { "T\(tokens) H\(heads) K\(kvHeads) D\(headDim) W\(window.map(String.init) ?? "-")" }
    }

    static let shapes = [
        Shape(tokens: 5, heads: 2, kvHeads: 2, headDim: 3, window: nil),
        Shape(tokens: 6, heads: 4, kvHeads: 2, headDim: 4, window: nil),
        Shape(tokens: 7, heads: 4, kvHeads: 1, headDim: 3, window: 3)
    ]

    func forward(_ s: Shape, _ q: [Double], _ k: [Double], _ v: [Double], scale: Double) -> (
        out: [Double], probs: [Double]
    ) {
        var out = [Double](repeating: 0, count: s.tokens * s.heads * s.headDim)
        var probs = [Double](repeating: 0, count: s.heads * s.tokens * s.tokens)
        Kernels.attentionForward(
            query: q, key: k, value: v, tokens: s.tokens, heads: s.heads, kvHeads: s.kvHeads,
            headDim: s.headDim, scale: scale, window: s.window, output: &out, probabilities: &probs)
        return (out, probs)
    }

    @Test(arguments: shapes)
    func gradients(_ s: Shape) {
        let scale = 0.7
        let q = randomValues(s.tokens * s.heads * s.headDim, seed: 31, in: -2...2)
        let k = randomValues(s.tokens * s.kvHeads * s.headDim, seed: 32, in: -2...2)
        let v = randomValues(s.tokens * s.kvHeads * s.headDim, seed: 33)
        let r = randomValues(q.count, seed: 34)
        let probs = forward(s, q, k, v, scale: scale).probs
        var dq = [Double](repeating: 0, count: q.count)
        var dk = [Double](repeating: 0, count: k.count)
        var dv = [Double](repeating: 0, count: v.count)
        Kernels.attentionBackward(
            r, query: q, key: k, value: v, probabilities: probs, tokens: s.tokens, heads: s.heads,
            kvHeads: s.kvHeads, headDim: s.headDim, scale: scale, window: s.window,
            dQuery: &dq, dKey: &dk, dValue: &dv)
        let tol = 1e-7
        #expect(
            checkClose(
                dq, numericalGradient(at: q) { project(forward(s, $0, k, v, scale: scale).out, r) }, tol: tol,
                label: "dq") == nil)
        #expect(
            checkClose(
                dk, numericalGradient(at: k) { project(forward(s, q, $0, v, scale: scale).out, r) }, tol: tol,
                label: "dk") == nil)
        #expect(
            checkClose(
                dv, numericalGradient(at: v) { project(forward(s, q, k, $0, scale: scale).out, r) }, tol: tol,
                label: "dv") == nil)
    }

    @Test func maskAndGrouping() {
        let s = Shape(tokens: 4, heads: 2, kvHeads: 1, headDim: 2, window: 2)
        let q = randomValues(16, seed: 35)
        let k = randomValues(8, seed: 36)
        let v = randomValues(8, seed: 37)
        let (out, probs) = forward(s, q, k, v, scale: 1)
        // Token 0 sees only itself; with window 2, token 3 sees tokens 2 and 3 only.
        #expect(checkClose(out[0..<2], v[0..<2], tol: 1e-15, label: "token 0 head 0") == nil)
        #expect(checkClose(out[2..<4], v[0..<2], tol: 1e-15, label: "token 0 head 1") == nil)
        for h in 0..<2 {
            let row = probs[(h * 4 + 3) * 4..<(h * 4 + 4) * 4]
            #expect(Array(row.prefix(2)) == [0, 0])
            #expect(abs(row.reduce(0, +) - 1) < 1e-15)
        }
        // Grouped heads equal ungrouped attention with the key/value head repeated.
        func repeatHead(_ x: [Double]) -> [Double] {
            var result: [Double] = []
            for t in 0..<4 {
                let head = Array(x[t * 2..<t * 2 + 2])
                result += head
                result += head
            }
            return result
        }
        let repeatedK = repeatHead(k)
        let repeatedV = repeatHead(v)
        var full = s
        full.kvHeads = 2
        #expect(checkClose(forward(full, q, repeatedK, repeatedV, scale: 1).out, out, tol: 1e-15, label: "GQA") == nil)
    }
}
