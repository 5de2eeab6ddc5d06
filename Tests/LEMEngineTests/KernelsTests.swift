import Foundation
import LEMEngine
import LEMFormats
import TestSupport
import Testing

@Suite("Kernels")
struct KernelsTests {
    @Test("rmsNorm matches a double-precision reference, with and without Gemma's 1 + w")
    func rmsNormReference() {
        var rng = Xoshiro256(seed: 1)
        let rows = 3
        let c = 17
        let x = randomFloats(rows * c, scale: 3, rng: &rng)
        let w = randomFloats(c, rng: &rng)
        for offset: Float in [0, 1] {
            let out = Kernels.rmsNorm(x, weight: w, offset: offset, eps: 1e-6)
            var expected = [Double]()
            for r in 0..<rows {
                let row = x[(r * c)..<(r * c + c)].map(Double.init)
                let rms = (row.reduce(0) { $0 + $1 * $1 } / Double(c) + 1e-6).squareRoot()
                for j in 0..<c { expected.append(row[j] / rms * (Double(offset) + Double(w[j]))) }
            }
            #expect(checkClose(out, expected, tol: 1e-5, label: "rmsNorm offset \(offset)") == nil)
        }
    }

    @Test("rmsNorm by hand: [3, 4] has rms sqrt(12.5)")
    func rmsNormByHand() {
        let out = Kernels.rmsNorm([3, 4], weight: [1, 2], offset: 0, eps: 0)
        let rms = 12.5.squareRoot()
        #expect(checkClose(out, [3 / rms, 8 / rms], tol: 1e-6, label: "rmsNorm") == nil)
    }

    @Test("activations match their formulas in double precision")
    func activations() {
        for x in stride(from: -6.0, through: 6.0, by: 0.37) {
            let gelu = 0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
            let silu = x / (1 + exp(-x))
            #expect(abs(Double(Kernels.geluTanh(Float(x))) - gelu) < 1e-5)
            #expect(abs(Double(Kernels.silu(Float(x))) - silu) < 1e-5)
            #expect(abs(Double(Kernels.softcap(Float(x), cap: 2)) - tanh(x / 2) * 2) < 1e-5)
        }
    }

    /// The eight-lane gated activations (`exp8`) against the libm oracle and double precision:
    /// tiny, ordinary, large and huge gates (where e^x clamps), and a 5-element tail.
    @Test("gated activations, eight lanes, match libm and double precision", arguments: [Activation.geluTanh, .silu])
    func gatedActivationFast(activation: Activation) {
        var gates: [Float] = [0, -0, 1e-30, -1e-7, 3e-4, 120, -120, 1e4, -1e4, 88, -88, 44, -44]
        gates += stride(from: -12.0, through: 12.0, by: 0.0137).map { Float($0) }
        gates += [0.5, -0.25, 7, -3, 2]  // makes the count not a multiple of 8
        let up = gates.indices.map { Float(($0 % 7) - 3) * 0.5 + 0.1 }
        var fast = gates
        var naive = gates
        up.withUnsafeBufferPointer { u in
            Kernels.gatedActivation(gate: &fast, up: u.baseAddress!, count: gates.count, activation: activation)
            Kernels.gatedActivationNaive(gate: &naive, up: u.baseAddress!, count: gates.count, activation: activation)
        }
        for i in gates.indices {
            let x = Double(gates[i])
            let exact: Double =
                switch activation {
                case .geluTanh: 0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
                case .silu: x / (1 + exp(-x))
                }
            // Relative error, plus for GELU's left tail (1 + tanh u near 0) half an ulp of 2 on
            // 1 + tanh u, as float tanh has there: |x · up| · 3e-7.
            let want = exact * Double(up[i])
            let tol = 2e-6 * abs(want) + 3e-7 * abs(x * Double(up[i])) + 1e-30
            #expect(abs(Double(fast[i]) - want) <= tol, "x \(x): fast \(fast[i]) vs \(want)")
            #expect(abs(Double(fast[i]) - Double(naive[i])) <= 2 * tol, "x \(x): fast \(fast[i]) vs libm \(naive[i])")
            #expect(fast[i].isFinite)
        }
    }

    @Test("softmax is stable for large inputs and matches double precision")
    func softmax() {
        let x: [Float] = [1000, 1001, 999, -50]
        let out = Kernels.softmax(x)
        let m = 1001.0
        let e = x.map { exp(Double($0) - m) }
        let s = e.reduce(0, +)
        #expect(checkClose(out, e.map { $0 / s }, tol: 1e-6, label: "softmax") == nil)
    }

    @Test("default RoPE frequencies are 1 / base^(2i/D); linear scaling divides them")
    func ropeFrequencies() {
        let inv = Kernels.ropeInverseFrequencies(headDim: 8, base: 10_000, scaling: .none)
        let expected = (0..<4).map { 1 / pow(10_000.0, Double(2 * $0) / 8) }
        #expect(checkClose(inv, expected, tol: 1e-7, label: "inv freq") == nil)
        let linear = Kernels.ropeInverseFrequencies(headDim: 8, base: 10_000, scaling: .linear(factor: 8))
        #expect(checkClose(linear, expected.map { $0 / 8 }, tol: 1e-8, label: "linear") == nil)
    }

    @Test("llama3 RoPE scaling keeps short wavelengths, divides long ones, blends the middle")
    func ropeLlama3() {
        // Llama 3.1: factor 8, low 1, high 4, original context 8192, base 500000, D 128.
        let d = 128
        let base = Kernels.ropeInverseFrequencies(headDim: d, base: 500_000, scaling: .none)
        let scaled = Kernels.ropeInverseFrequencies(
            headDim: d, base: 500_000,
            scaling: .llama3(factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192))
        var sawShort = false
        var sawLong = false
        var sawMedium = false
        for i in 0..<d / 2 {
            let wavelen = 2 * Double.pi / Double(base[i])
            if wavelen < 8192.0 / 4 {
                sawShort = true
                #expect(scaled[i] == base[i])
            } else if wavelen > 8192.0 / 1 {
                sawLong = true
                #expect(abs(Double(scaled[i]) - Double(base[i]) / 8) <= 1e-6 * Double(base[i]))
            } else {
                sawMedium = true
                let smooth = (8192 / wavelen - 1) / (4 - 1)
                let expected = (1 - smooth) * Double(base[i]) / 8 + smooth * Double(base[i])
                #expect(abs(Double(scaled[i]) - expected) <= 1e-5 * expected)
            }
        }
        #expect(sawShort && sawLong && sawMedium)
    }

    @Test("applyRope rotates each (i, i + D/2) pair by position × frequency")
    func applyRope() {
        var rng = Xoshiro256(seed: 2)
        let t = 3
        let heads = 2
        let d = 8
        let half = d / 2
        let x = randomFloats(t * heads * d, rng: &rng)
        let positions = [0, 5, 17]
        let inv = Kernels.ropeInverseFrequencies(headDim: d, base: 100, scaling: .none)
        var cosT = [Float](repeating: 0, count: t * half)
        var sinT = cosT
        Kernels.ropeTable(positions: positions, count: t, inverseFrequencies: inv, half: half, cos: &cosT, sin: &sinT)
        var y = x
        Kernels.applyRope(&y, tokens: t, heads: heads, headDim: d, cos: cosT, sin: sinT)
        var expected = [Double](repeating: 0, count: x.count)
        for ti in 0..<t {
            for h in 0..<heads {
                let o = (ti * heads + h) * d
                for i in 0..<half {
                    let theta = Double(positions[ti]) * Double(inv[i])
                    let a = Double(x[o + i])
                    let b = Double(x[o + i + half])
                    expected[o + i] = a * cos(theta) - b * sin(theta)
                    expected[o + i + half] = a * sin(theta) + b * cos(theta)
                }
            }
        }
        #expect(checkClose(y, expected, tol: 1e-5, label: "rope") == nil)
        #expect(checkClose(y[0..<heads * d], x[0..<heads * d], tol: 0, label: "position 0 is identity") == nil)
    }

    @Test("matmul through OpenBLAS equals the naive oracle, with and without bias")
    func matmulFastEqualsNaive() {
        var rng = Xoshiro256(seed: 3)
        for (tokens, outF, inF) in [(1, 70, 33), (1, 300, 41), (5, 130, 64), (2, 64, 7)] {
            let w = ArrayTensor.random("w", [outF, inF], scale: 1, rng: &rng)
            let x = randomFloats(tokens * inF, rng: &rng)
            let bias = randomFloats(outF, rng: &rng)
            for b in [nil, bias] {
                var naive = [Float](repeating: 0, count: tokens * outF)
                var fast = naive
                var scratch = [Float](repeating: 0, count: inF)
                var tile = [Float](repeating: 0, count: Kernels.matmulTileRows * inF)
                let biasPointer = b.map { UnsafeMutablePointer<Float>.allocate(capacity: $0.count) }
                defer { biasPointer?.deallocate() }
                if let b, let biasPointer { biasPointer.initialize(from: b, count: b.count) }
                Kernels.matmulNaive(x, weight: w, bias: biasPointer, tokens: tokens, scratch: &scratch, out: &naive)
                Kernels.matmul(x, weight: w, bias: biasPointer, tokens: tokens, tile: &tile, out: &fast)
                #expect(checkClose(fast, naive, tol: 1e-5, label: "matmul T=\(tokens) out=\(outF)") == nil)
                // The oracle itself against a double-precision dot product.
                var expected = [Double]()
                for ti in 0..<tokens {
                    for o in 0..<outF {
                        var dot = b.map { Double($0[o]) } ?? 0
                        for i in 0..<inF { dot += Double(x[ti * inF + i]) * Double(w.data[o * inF + i]) }
                        expected.append(dot)
                    }
                }
                #expect(checkClose(naive, expected, tol: 1e-4, label: "naive matmul") == nil)
            }
        }
    }
}
