import Foundation
import LEMEngine
import TestSupport
import Testing

@testable import LEMTrainer

/// Every backward kernel against central finite differences of its naive forward, in Float64.
@Suite struct KernelsBackwardTests {
    let tolerance = 1e-7

    @Test(arguments: [0.0, 1.0])
    func rmsNorm(weightOffset: Double) {
        let rows = 3
        let columns = 5
        let eps = 1e-6
        let x = randomValues(rows * columns, seed: 1, in: -2...2)
        let w = randomValues(columns, seed: 2)
        let r = randomValues(rows * columns, seed: 3)
        func forward(_ x: [Double], _ w: [Double]) -> [Double] {
            var y = [Double](repeating: 0, count: rows * columns)
            Kernels.rmsNormForward(
                x, weight: w, weightOffset: weightOffset, eps: eps, rows: rows, columns: columns, into: &y)
            return y
        }
        var dx = [Double](repeating: 0, count: x.count)
        var dw = [Double](repeating: 0, count: columns)
        dw.withUnsafeMutableBufferPointer { dwp in
            Kernels.rmsNormBackward(
                r, input: x, weight: w, weightOffset: weightOffset, eps: eps, rows: rows,
                columns: columns, dx: &dx, dWeight: dwp.baseAddress)
        }
        #expect(
            checkClose(dx, numericalGradient(at: x) { project(forward($0, w), r) }, tol: tolerance, label: "dx") == nil)
        #expect(
            checkClose(dw, numericalGradient(at: w) { project(forward(x, $0), r) }, tol: tolerance, label: "dw") == nil)
    }

    @Test func rmsNormForwardValue() {
        // x = [3, 4]: mean square 12.5, so y = x / √12.5 · (1 + w) with Gemma's offset.
        var y = [Double](repeating: 0, count: 2)
        Kernels.rmsNormForward([3.0, 4.0], weight: [0.5, -0.5], weightOffset: 1, eps: 0, rows: 1, columns: 2, into: &y)
        #expect(
            checkClose(y, [3 / 12.5.squareRoot() * 1.5, 4 / 12.5.squareRoot() * 0.5], tol: 1e-12, label: "y") == nil)
    }

    @Test func rope() {
        let tokens = 4
        let heads = 2
        let headDim = 6
        let positions = [0, 1, 5, 9]
        let frequencies = Kernels.ropeInverseFrequencies(headDim: headDim, base: 10_000)
        let x = randomValues(tokens * heads * headDim, seed: 4)
        let r = randomValues(x.count, seed: 5)
        func forward(_ x: [Double]) -> [Double] {
            var y = x
            Kernels.ropeForward(
                &y, tokens: tokens, heads: heads, headDim: headDim, positions: positions,
                inverseFrequencies: frequencies)
            return y
        }
        var dx = r
        Kernels.ropeBackward(
            &dx, tokens: tokens, heads: heads, headDim: headDim, positions: positions,
            inverseFrequencies: frequencies)
        #expect(
            checkClose(dx, numericalGradient(at: x) { project(forward($0), r) }, tol: tolerance, label: "dx") == nil)
        // Position 0 is the identity; the NEOX pair (0, 3) of token 1 rotates by 1 radian.
        let y = forward(x)
        #expect(checkClose(y[0..<heads * headDim], x[0..<heads * headDim], tol: 1e-15, label: "pos 0") == nil)
        let base = heads * headDim
        #expect(abs(y[base] - (x[base] * cos(1) - x[base + 3] * sin(1))) < 1e-15)
        #expect(abs(y[base + 3] - (x[base] * sin(1) + x[base + 3] * cos(1))) < 1e-15)
    }

    @Test(arguments: Activation.allCases)
    func activation(_ activation: Activation) {
        let x = randomValues(20, seed: 6, in: -4...4)
        let r = randomValues(20, seed: 7)
        func forward(_ x: [Double]) -> [Double] {
            var y = [Double](repeating: 0, count: x.count)
            Kernels.activationForward(activation, x, count: x.count, into: &y)
            return y
        }
        var dx = [Double](repeating: 0, count: x.count)
        Kernels.activationBackward(activation, r, input: x, count: x.count, dx: &dx)
        #expect(
            checkClose(dx, numericalGradient(at: x) { project(forward($0), r) }, tol: tolerance, label: "dx") == nil)
    }

    @Test func activationValues() {
        var y = [Double](repeating: 0, count: 1)
        // gelu_tanh(1) = 0.5·(1 + tanh(√(2/π)·1.044715)); silu(1) = 1/(1 + e⁻¹).
        Kernels.activationForward(.geluTanh, [1.0], count: 1, into: &y)
        #expect(abs(y[0] - 0.5 * (1 + tanh((2 / Double.pi).squareRoot() * 1.044715))) < 1e-15)
        Kernels.activationForward(.silu, [1.0], count: 1, into: &y)
        #expect(abs(y[0] - 1 / (1 + exp(-1))) < 1e-15)
        #expect(Activation(configName: "gelu_pytorch_tanh") == .geluTanh)
        #expect(Activation(configName: "silu") == .silu)
        #expect(Activation(configName: "relu") == nil)
    }

    @Test(arguments: Activation.allCases)
    func gatedActivation(_ activation: Activation) {
        let n = 12
        let gate = randomValues(n, seed: 8, in: -3...3)
        let up = randomValues(n, seed: 9, in: -3...3)
        let r = randomValues(n, seed: 10)
        func forward(_ gate: [Double], _ up: [Double]) -> [Double] {
            var h = [Double](repeating: 0, count: n)
            Kernels.gatedActivationForward(activation, gate: gate, up: up, count: n, into: &h)
            return h
        }
        var dGate = [Double](repeating: 0, count: n)
        var dUp = [Double](repeating: 0, count: n)
        Kernels.gatedActivationBackward(activation, r, gate: gate, up: up, count: n, dGate: &dGate, dUp: &dUp)
        #expect(
            checkClose(
                dGate, numericalGradient(at: gate) { project(forward($0, up), r) }, tol: tolerance, label: "dgate")
                == nil)
        #expect(
            checkClose(dUp, numericalGradient(at: up) { project(forward(gate, $0), r) }, tol: tolerance, label: "dup")
                == nil)
    }

    @Test func linear() {
        let rows = 3
        let inputs = 4
        let outputs = 5
        let x = randomValues(rows * inputs, seed: 11)
        let w = randomValues(outputs * inputs, seed: 12)
        let b = randomValues(outputs, seed: 13)
        let r = randomValues(rows * outputs, seed: 14)
        func forward(_ x: [Double], _ w: [Double], _ b: [Double]) -> [Double] {
            var y = [Double](repeating: 0, count: rows * outputs)
            Kernels.linearForward(x, weight: w, bias: b, rows: rows, inputs: inputs, outputs: outputs, into: &y)
            return y
        }
        var dx = [Double](repeating: 0, count: x.count)
        var dw = [Double](repeating: 0, count: w.count)
        var db = [Double](repeating: 0, count: outputs)
        Kernels.linearBackward(
            r, input: x, weight: w, rows: rows, inputs: inputs, outputs: outputs,
            dx: &dx, dWeight: &dw, dBias: &db)
        #expect(
            checkClose(dx, numericalGradient(at: x) { project(forward($0, w, b), r) }, tol: tolerance, label: "dx")
                == nil)
        #expect(
            checkClose(dw, numericalGradient(at: w) { project(forward(x, $0, b), r) }, tol: tolerance, label: "dw")
                == nil)
        #expect(
            checkClose(db, numericalGradient(at: b) { project(forward(x, w, $0), r) }, tol: tolerance, label: "db")
                == nil)
    }

    @Test(arguments: [false, true])
    func loraLinear(dropout: Bool) {
        let rows = 3
        let inputs = 6
        let outputs = 5
        let rank = 2
        let scale = 2.5
        let x = randomValues(rows * inputs, seed: 15)
        let w = randomValues(outputs * inputs, seed: 16)
        let a = randomValues(inputs * rank, seed: 17)
        let b = randomValues(rank * outputs, seed: 18)
        let r = randomValues(rows * outputs, seed: 19)
        // Inverted dropout with p = 0.5: each kept input doubled.
        let mask: [Double]? = dropout ? randomValues(rows * inputs, seed: 20).map { $0 > 0 ? 2 : 0 } : nil
        func forward(_ x: [Double], _ a: [Double], _ b: [Double]) -> (y: [Double], xa: [Double]) {
            var y = [Double](repeating: 0, count: rows * outputs)
            var xa = [Double](repeating: 0, count: rows * rank)
            mask.withOptionalPointer { m in
                Kernels.loraLinearForward(
                    x, weight: w, bias: nil, loraA: a, loraB: b, scale: scale, dropoutMask: m,
                    rows: rows, inputs: inputs, outputs: outputs, rank: rank, xa: &xa, into: &y)
            }
            return (y, xa)
        }
        let xa = forward(x, a, b).xa
        var dx = [Double](repeating: 0, count: x.count)
        var da = [Double](repeating: 0, count: a.count)
        var db = [Double](repeating: 0, count: b.count)
        mask.withOptionalPointer { m in
            Kernels.loraLinearBackward(
                r, input: x, weight: w, loraA: a, loraB: b, scale: scale, dropoutMask: m, xa: xa,
                rows: rows, inputs: inputs, outputs: outputs, rank: rank, dx: &dx, dA: &da, dB: &db)
        }
        #expect(
            checkClose(dx, numericalGradient(at: x) { project(forward($0, a, b).y, r) }, tol: tolerance, label: "dx")
                == nil)
        #expect(
            checkClose(da, numericalGradient(at: a) { project(forward(x, $0, b).y, r) }, tol: tolerance, label: "dA")
                == nil)
        #expect(
            checkClose(db, numericalGradient(at: b) { project(forward(x, a, $0).y, r) }, tol: tolerance, label: "dB")
                == nil)
    }

    @Test func embedding() {
        let vocabulary = 5
        let columns = 3
        let scale = 1.7
        let tokens = [2, 0, 2, 4]  // token 2 twice: its gradient rows add up
        let table = randomValues(vocabulary * columns, seed: 21)
        let r = randomValues(tokens.count * columns, seed: 22)
        func forward(_ table: [Double]) -> [Double] {
            var y = [Double](repeating: 0, count: tokens.count * columns)
            Kernels.embeddingForward(
                tokens: tokens, table: table, scale: scale, rows: tokens.count, columns: columns, into: &y)
            return y
        }
        var dTable = [Double](repeating: 0, count: table.count)
        Kernels.embeddingBackward(
            r, tokens: tokens, scale: scale, rows: tokens.count, columns: columns, dTable: &dTable)
        #expect(
            checkClose(
                dTable, numericalGradient(at: table) { project(forward($0), r) }, tol: tolerance, label: "dTable")
                == nil)
    }

    @Test func crossEntropy() {
        let rows = 4
        let vocabulary = 7
        let logits = randomValues(rows * vocabulary, seed: 23, in: -3...3)
        let targets = [1, 6, 0, 3]
        let mask: [Double] = [1, 0, 1, 1]
        func loss(_ logits: [Double]) -> Double {
            let (sum, count) = Kernels.crossEntropyForward(
                logits: logits, targets: targets, mask: mask, rows: rows, vocabulary: vocabulary)
            return sum / count
        }
        var dLogits = [Double](repeating: .nan, count: logits.count)
        Kernels.crossEntropyBackward(
            logits: logits, targets: targets, mask: mask, rows: rows, vocabulary: vocabulary,
            normalizer: 3, dLogits: &dLogits)
        #expect(checkClose(dLogits, numericalGradient(at: logits, loss), tol: tolerance, label: "dlogits") == nil)
    }

    @Test func crossEntropyValue() {
        // Uniform logits over 2 classes: ln 2 per token; the masked row (huge loss) is ignored.
        let (sum, count) = Kernels.crossEntropyForward(
            logits: [0.0, 0.0, 0.0, 50.0, 1.0, 1.0], targets: [0, 0, 1], mask: [1, 0, 1], rows: 3, vocabulary: 2)
        #expect(count == 2)
        #expect(abs(sum / count - log(2)) < 1e-15)
    }
}
