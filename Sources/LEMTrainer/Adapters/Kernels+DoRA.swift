import LEMEngine

// DoRA (weight-decomposed LoRA) as mlx_lm's DoRALinear trains it:
//   n   = ‖W + s·(A B)ᵀ‖ per output row, treated as a constant (mx.stop_gradient; PEFT detaches
//         it too, as the DoRA paper §4.3 recommends)
//   y0  = x Wᵀ + s·(x A) B                        (loraLinearForward with no bias)
//   out = (m / n) ⊙ y0 + bias
// so the backward is: dm = Σ_rows dout ⊙ y0 / n, dy0 = dout ⊙ (m / n), then the plain LoRA
// backward (loraLinearBackward) from dy0. Legend: N rows, I inputs, O outputs, R rank.

extension Kernels {
    /// DoRA's row norms `n[o] = ‖W[o, :] + s · Σ_r A[:, r] B[r, o]‖`, recomputed after every
    /// optimizer step (A and B change); constants for the gradient.
    public static func doraRowNorms<T: TrainingScalar>(
        weight w: UnsafePointer<T>,  // (O, I)
        loraA a: UnsafePointer<T>,  // (I, R)
        loraB b: UnsafePointer<T>,  // (R, O)
        scale: T,
        inputs: Int, outputs: Int, rank: Int,
        into norms: UnsafeMutablePointer<T>  // (O)
    ) {
        for o in 0..<outputs {
            var sum: T = 0
            for i in 0..<inputs {
                var delta: T = 0
                for r in 0..<rank { delta += a[i * rank + r] * b[r * outputs + o] }
                let v = w[o * inputs + i] + scale * delta
                sum += v * v
            }
            norms[o] = sum.squareRoot()
        }
    }

    /// `out = (m / n) ⊙ y0 + bias` row by row; `y0` is the LoRA output without the bias (keep it
    /// for the backward).
    public static func doraRescale<T: TrainingScalar>(
        _ y0: UnsafePointer<T>,  // (N, O)
        magnitude m: UnsafePointer<T>,  // (O)
        norms n: UnsafePointer<T>,  // (O)
        bias: UnsafePointer<T>?,  // (O)
        rows: Int, outputs: Int,
        into out: UnsafeMutablePointer<T>  // (N, O), may alias y0
    ) {
        for row in 0..<rows {
            for o in 0..<outputs {
                let k = row * outputs + o
                out[k] = m[o] / n[o] * y0[k] + (bias?[o] ?? 0)
            }
        }
    }

    /// Gradients of `doraRescale` with the norms held constant: `dy0 = dout ⊙ (m / n)` (feed it
    /// to `loraLinearBackward`), `dm += Σ_rows dout ⊙ y0 / n`, `dBias += Σ_rows dout`.
    public static func doraRescaleBackward<T: TrainingScalar>(
        _ dOut: UnsafePointer<T>,  // (N, O)
        y0: UnsafePointer<T>,  // (N, O)
        magnitude m: UnsafePointer<T>,  // (O)
        norms n: UnsafePointer<T>,  // (O)
        rows: Int, outputs: Int,
        dY0: UnsafeMutablePointer<T>,  // (N, O), overwritten
        dMagnitude: UnsafeMutablePointer<T>?,  // (O), added into
        dBias: UnsafeMutablePointer<T>? = nil  // (O), added into
    ) {
        for row in 0..<rows {
            for o in 0..<outputs {
                let k = row * outputs + o
                dY0[k] = dOut[k] * m[o] / n[o]
                dMagnitude?[o] += dOut[k] * y0[k] / n[o]
                dBias?[o] += dOut[k]
            }
        }
    }
}
