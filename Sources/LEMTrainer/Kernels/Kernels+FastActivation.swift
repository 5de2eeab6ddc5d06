import Foundation
import LEMEngine

// The fast trainer's f32 gated activations, eight lanes at a time with a polynomial e^x
// (`Kernels.exp8`, LEMEngine) instead of a libm call per element (the scalar `tanhf`/`expm1f`
// loop was ~5 % of a training step).
// `gatedActivationForward` / `gatedActivationBackward` (generic, libm) are their oracles.
// Legend: N rows, F feed-forward size; n = N·F elements.

extension Kernels {
    /// `activation`'s value and derivative for eight inputs (the formulas of `activate`).
    @inline(__always)
    static func activate8(_ activation: Activation, _ x: SIMD8<Float>) -> (
        value: SIMD8<Float>, derivative: SIMD8<Float>
    ) {
        switch activation {
        case .geluTanh:
            let c: Float = 0.797_884_560_802_865_4  // √(2/π)
            let x2: SIMD8<Float> = x * x
            let u: SIMD8<Float> = c * (x + 0.044715 * x2 * x)
            let e: SIMD8<Float> = exp8(2 * u)
            let t: SIMD8<Float> = 1 - 2 / (e + 1)  // tanh u
            let half: SIMD8<Float> = 0.5 * (1 + t)
            let value: SIMD8<Float> = x * half
            let slope: SIMD8<Float> = 0.5 * c * x * (1 - t * t)
            let inner: SIMD8<Float> = 1 + (3 * 0.044715) * x2
            return (value, half + slope * inner)
        case .silu:
            let sigma = 1 / (1 + exp8(-x))
            return (x * sigma, sigma * (1 + x * (1 - sigma)))
        }
    }

    /// f32 `h = activation(gate) ⊙ up`, eight elements at a time (the tail through `activate`).
    public static func gatedActivationForwardF32(
        _ activation: Activation,
        gate: UnsafePointer<Float>,  // (n)
        up: UnsafePointer<Float>,  // (n)
        count n: Int,
        into h: UnsafeMutablePointer<Float>  // (n)
    ) {
        let whole = n / 8 * 8
        for i in stride(from: 0, to: whole, by: 8) {
            store8(activate8(activation, load8(gate, i)).value * load8(up, i), h, i)
        }
        for i in whole..<n { h[i] = activate(activation, gate[i]).value * up[i] }
    }

    /// f32 backward of `gatedActivationForwardF32`: `dGate += dh ⊙ up ⊙ activation′(gate)`,
    /// `dUp += dh ⊙ activation(gate)`.
    public static func gatedActivationBackwardF32(
        _ activation: Activation,
        _ dh: UnsafePointer<Float>,  // (n)
        gate: UnsafePointer<Float>,  // (n)
        up: UnsafePointer<Float>,  // (n)
        count n: Int,
        dGate: UnsafeMutablePointer<Float>,  // (n), added into
        dUp: UnsafeMutablePointer<Float>  // (n), added into
    ) {
        let whole = n / 8 * 8
        for i in stride(from: 0, to: whole, by: 8) {
            let (value, derivative) = activate8(activation, load8(gate, i))
            let d = load8(dh, i)
            store8(load8(dGate, i) + d * load8(up, i) * derivative, dGate, i)
            store8(load8(dUp, i) + d * value, dUp, i)
        }
        for i in whole..<n {
            let (value, derivative) = activate(activation, gate[i])
            dGate[i] += dh[i] * up[i] * derivative
            dUp[i] += dh[i] * value
        }
    }

    /// `x ← cap·tanh(x / cap)` over `n` floats (Gemma's final logit soft cap).
    public static func softCapF32(_ x: UnsafeMutablePointer<Float>, count n: Int, cap: Float) {
        let whole = n / 8 * 8
        for i in stride(from: 0, to: whole, by: 8) {
            let t = 1 - 2 / (exp8(2 * load8(x, i) / cap) + 1)
            store8(cap * t, x, i)
        }
        for i in whole..<n { x[i] = cap * tanh(x[i] / cap) }
    }

    /// The largest of `n` floats (−∞ when `n` is 0).
    public static func maximumF32(_ x: UnsafePointer<Float>, count n: Int) -> Float {
        let whole = n / 8 * 8
        var lanes = SIMD8<Float>(repeating: -.infinity)
        for i in stride(from: 0, to: whole, by: 8) { lanes = pointwiseMax(lanes, load8(x, i)) }
        var result = lanes.max()
        for i in whole..<n { result = max(result, x[i]) }
        return result
    }

    /// `Σ e^(x − shift)` over `n` floats; when `overwrite`, also `x ← e^(x − shift)·slope` with
    /// the soft cap's slope `1 − (x/cap)²` (1 without a cap).
    public static func shiftedExponentialsF32(
        _ x: UnsafeMutablePointer<Float>, count n: Int, shift: Float,
        slopeCap cap: Float?, overwrite: Bool
    ) -> Float {
        let whole = n / 8 * 8
        var lanes = SIMD8<Float>()
        for i in stride(from: 0, to: whole, by: 8) {
            let v = load8(x, i)
            let e = exp8(v - shift)
            lanes += e
            guard overwrite else { continue }
            if let cap {
                let u = v / cap
                store8(e * (1 - u * u), x, i)
            } else {
                store8(e, x, i)
            }
        }
        var total = lanes.sum()
        for i in whole..<n {
            let e = exp(x[i] - shift)
            total += e
            guard overwrite else { continue }
            if let cap {
                let u = x[i] / cap
                x[i] = e * (1 - u * u)
            } else {
                x[i] = e
            }
        }
        return total
    }
}
