import Foundation
import LEMEngine
import TestSupport
import Testing

@testable import LEMTrainer

/// The f32 eight-lane activation, soft-cap and softmax kernels against their libm oracles.
@Suite struct FastActivationTests {
    static func inputs(_ count: Int, range: ClosedRange<Float>, seed: UInt64) -> [Float] {
        var random = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Float.random(in: range, using: &random) }
    }

    /// `exp8` within a few ulp of `exp` from −87 to 88, and clamped (finite, ordered) beyond.
    @Test func exponentialMatchesLibm() {
        let xs = Self.inputs(4096, range: -87...88, seed: 1) + [0, 1, -1, 88.3, -87.3, 1e-8, -1e-8]
        var worst: Float = 0
        for start in stride(from: 0, to: xs.count - 7, by: 8) {
            let lanes = Kernels.exp8(SIMD8(xs[start..<start + 8]))
            for j in 0..<8 {
                let expected = Float(Foundation.exp(Double(xs[start + j])))
                worst = max(worst, abs(lanes[j] - expected) / expected)
            }
        }
        #expect(worst < 4e-7, "worst relative error \(worst)")
        let extremes = Kernels.exp8(SIMD8(-1000, -100, -88, 89, 100, 1000, 0, 0))
        #expect(extremes[0] >= 0 && extremes[0] < 1e-37 && extremes[5].isFinite && extremes[5] > 1e38)
    }

    /// Forward and backward of both activations, a length that leaves a scalar tail, inputs
    /// large enough to saturate tanh and the sigmoid.
    @Test(arguments: Activation.allCases)
    func gatedActivationMatchesOracle(_ activation: Activation) {
        let n = 1003
        let gate = Self.inputs(n, range: -12...12, seed: 2)
        let up = Self.inputs(n, range: -2...2, seed: 3)
        let dh = Self.inputs(n, range: -1...1, seed: 4)
        var h = [Float](repeating: 0, count: n)
        var expected = [Double](repeating: 0, count: n)
        Kernels.gatedActivationForwardF32(activation, gate: gate, up: up, count: n, into: &h)
        let gate64 = gate.map(Double.init)
        let up64 = up.map(Double.init)
        let dh64 = dh.map(Double.init)
        Kernels.gatedActivationForward(activation, gate: gate64, up: up64, count: n, into: &expected)
        #expect(checkClose(h, expected, tol: 1e-5, label: "\(activation) forward") == nil)

        var dGate = [Float](repeating: 0.5, count: n)
        var dUp = [Float](repeating: -0.5, count: n)
        var eGate = [Double](repeating: 0.5, count: n)
        var eUp = [Double](repeating: -0.5, count: n)
        Kernels.gatedActivationBackwardF32(activation, dh, gate: gate, up: up, count: n, dGate: &dGate, dUp: &dUp)
        Kernels.gatedActivationBackward(activation, dh64, gate: gate64, up: up64, count: n, dGate: &eGate, dUp: &eUp)
        #expect(checkClose(dGate, eGate, tol: 1e-5, label: "\(activation) dGate") == nil)
        #expect(checkClose(dUp, eUp, tol: 1e-5, label: "\(activation) dUp") == nil)
    }

    /// The head's soft cap, tile maximum and shifted exponentials (with and without overwriting
    /// by `e·slope`) against scalar loops.
    @Test(arguments: [nil, 30.0] as [Float?])
    func headSoftmaxPiecesMatchScalar(cap: Float?) {
        let n = 4099
        let logits = Self.inputs(n, range: -40...40, seed: 5)
        var capped = logits
        if let cap {
            Kernels.softCapF32(&capped, count: n, cap: cap)
            let expected = logits.map { Double(cap) * Foundation.tanh(Double($0) / Double(cap)) }
            #expect(checkClose(capped, expected, tol: 1e-5 * Double(cap), label: "soft cap") == nil)
        }
        let top = Kernels.maximumF32(capped, count: n)
        #expect(top == capped.max()!)
        #expect(Kernels.maximumF32(capped, count: 0) == -.infinity)
        var row = capped
        let sum = Kernels.shiftedExponentialsF32(&row, count: n, shift: top, slopeCap: cap, overwrite: true)
        var expectedSum = 0.0
        var expectedRow = [Double](repeating: 0, count: n)
        for j in 0..<n {
            let e = Foundation.exp(Double(capped[j] - top))
            expectedSum += e
            let u = cap.map { Double(capped[j] / $0) } ?? 0
            expectedRow[j] = e * (cap == nil ? 1 : 1 - u * u)
        }
        #expect(abs(Double(sum) - expectedSum) <= 1e-5 * expectedSum, "\(sum) vs \(expectedSum)")
        #expect(checkClose(row, expectedRow, tol: 1e-6, label: "e·slope") == nil)
        var untouched = capped
        let sumOnly = Kernels.shiftedExponentialsF32(&untouched, count: n, shift: top, slopeCap: cap, overwrite: false)
        #expect(sumOnly == sum && untouched == capped)
    }
}
