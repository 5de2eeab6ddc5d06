import Foundation
import LEMEngine
import TestSupport
import Testing

@testable import LEMTrainer

/// DoRA's forward/backward (mlx_lm DoRALinear, norms held constant) vs central finite
/// differences in Float64, and the norms vs the engine's inference-time row scale.
@Suite struct DoRAKernelsTests {
    let tolerance = 1e-7
    let rows = 3, inputs = 6, outputs = 5, rank = 2, scale = 1.5

    /// The whole DoRA layer with `norms` fixed (mx.stop_gradient): returns (out, y0, xa).
    func forward(
        _ x: [Double], _ w: [Double], _ a: [Double], _ b: [Double], _ m: [Double], _ bias: [Double],
        norms: [Double]
    ) -> (out: [Double], y0: [Double], xa: [Double]) {
        var y0 = [Double](repeating: 0, count: rows * outputs)
        var xa = [Double](repeating: 0, count: rows * rank)
        Kernels.loraLinearForward(
            x, weight: w, bias: nil, loraA: a, loraB: b, scale: scale, dropoutMask: nil,
            rows: rows, inputs: inputs, outputs: outputs, rank: rank, xa: &xa, into: &y0)
        var out = [Double](repeating: 0, count: rows * outputs)
        Kernels.doraRescale(y0, magnitude: m, norms: norms, bias: bias, rows: rows, outputs: outputs, into: &out)
        return (out, y0, xa)
    }

    func norms(_ w: [Double], _ a: [Double], _ b: [Double]) -> [Double] {
        var n = [Double](repeating: 0, count: outputs)
        Kernels.doraRowNorms(
            weight: w, loraA: a, loraB: b, scale: scale, inputs: inputs, outputs: outputs, rank: rank, into: &n)
        return n
    }

    @Test func gradientsMatchFiniteDifferences() {
        let x = randomValues(rows * inputs, seed: 31)
        let w = randomValues(outputs * inputs, seed: 32)
        let a = randomValues(inputs * rank, seed: 33)
        let b = randomValues(rank * outputs, seed: 34)
        let bias = randomValues(outputs, seed: 35)
        let r = randomValues(rows * outputs, seed: 36)
        let n = norms(w, a, b)
        let m = n.enumerated().map { $0.element * (1 + 0.1 * Double($0.offset)) }  // not the identity rescale
        let (_, y0, xa) = forward(x, w, a, b, m, bias, norms: n)
        var dY0 = [Double](repeating: 0, count: rows * outputs)
        var dm = [Double](repeating: 0, count: outputs)
        var dBias = [Double](repeating: 0, count: outputs)
        Kernels.doraRescaleBackward(
            r, y0: y0, magnitude: m, norms: n, rows: rows, outputs: outputs,
            dY0: &dY0, dMagnitude: &dm, dBias: &dBias)
        var dx = [Double](repeating: 0, count: x.count)
        var da = [Double](repeating: 0, count: a.count)
        var db = [Double](repeating: 0, count: b.count)
        Kernels.loraLinearBackward(
            dY0, input: x, weight: w, loraA: a, loraB: b, scale: scale, dropoutMask: nil, xa: xa,
            rows: rows, inputs: inputs, outputs: outputs, rank: rank, dx: &dx, dA: &da, dB: &db)
        let (x0, a0, b0, m0, bias0) = (x, a, b, m, bias)
        func loss(x: [Double]? = nil, a: [Double]? = nil, b: [Double]? = nil, m: [Double]? = nil, bias: [Double]? = nil)
            -> Double
        {
            project(forward(x ?? x0, w, a ?? a0, b ?? b0, m ?? m0, bias ?? bias0, norms: n).out, r)
        }
        #expect(checkClose(dx, numericalGradient(at: x) { loss(x: $0) }, tol: tolerance, label: "dx") == nil)
        #expect(checkClose(da, numericalGradient(at: a) { loss(a: $0) }, tol: tolerance, label: "dA") == nil)
        #expect(checkClose(db, numericalGradient(at: b) { loss(b: $0) }, tol: tolerance, label: "dB") == nil)
        #expect(checkClose(dm, numericalGradient(at: m) { loss(m: $0) }, tol: tolerance, label: "dm") == nil)
        #expect(
            checkClose(dBias, numericalGradient(at: bias) { loss(bias: $0) }, tol: tolerance, label: "dbias") == nil)
    }

    @Test func magnitudeEqualToTheNormsIsPlainLoRA() {
        let x = randomValues(rows * inputs, seed: 41)
        let w = randomValues(outputs * inputs, seed: 42)
        let a = randomValues(inputs * rank, seed: 43)
        let b = randomValues(rank * outputs, seed: 44)
        let n = norms(w, a, b)
        let (out, y0, _) = forward(x, w, a, b, n, [Double](repeating: 0, count: outputs), norms: n)
        #expect(checkClose(out, y0, tol: 1e-12, label: "m = n") == nil)
    }

    @Test func normsAgreeWithTheEngineRowScale() {
        let w = randomValues(outputs * inputs, seed: 51)
        let a = randomValues(inputs * rank, seed: 52)
        let b = randomValues(rank * outputs, seed: 53)
        let n = norms(w, a, b)
        let m = [Float](repeating: 1, count: outputs)
        let tensor = DenseWeight(name: "w", shape: [outputs, inputs], values: w.map { Float($0) })
        let rowScale = LinearAdapter.doraRowScale(
            weight: tensor, a: a.map { Float($0) }, b: b.map { Float($0) }, scale: Float(scale), rank: rank,
            magnitude: m)
        #expect(checkClose(rowScale.map { 1 / Double($0) }, n, tol: 1e-5, label: "1 / row scale") == nil)
    }
}
