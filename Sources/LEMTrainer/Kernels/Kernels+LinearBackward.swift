import LEMEngine

// Backward passes of linear and LoRA-adapted linear layers (naive loops: the oracle for any
// BLAS path). Gradients are added into their outputs; pass nil for a gradient not needed
// (frozen base weights need no dW, the first layer needs no dx).

extension Kernels {
    /// Gradients of `linearForward` (`y = x Wᵀ + b`): `dx += dy W`, `dW += dyᵀ x`, `db += Σ dy`.
    public static func linearBackward<T: TrainingScalar>(
        _ dy: UnsafePointer<T>,  // (N, O)
        input x: UnsafePointer<T>,  // (N, I)
        weight w: UnsafePointer<T>,  // (O, I)
        rows: Int, inputs: Int, outputs: Int,
        dx: UnsafeMutablePointer<T>?,  // (N, I), added into
        dWeight: UnsafeMutablePointer<T>?,  // (O, I), added into
        dBias: UnsafeMutablePointer<T>?  // (O), added into
    ) {
        for n in 0..<rows {
            for o in 0..<outputs {
                let g = dy[n * outputs + o]
                if g == 0 { continue }
                if let dx {
                    for i in 0..<inputs { dx[n * inputs + i] += g * w[o * inputs + i] }
                }
                if let dWeight {
                    for i in 0..<inputs { dWeight[o * inputs + i] += g * x[n * inputs + i] }
                }
                dBias?[o] += g
            }
        }
    }

    /// Gradients of `loraLinearForward` with respect to the adapter and the input.
    ///
    /// With `u = xa = (x ⊙ m) A` from the forward and `du = scale · dy Bᵀ`:
    /// `dB += scale · uᵀ dy`, `dA += (x ⊙ m)ᵀ du`, `dx += dy W + (du Aᵀ) ⊙ m`.
    /// The frozen base weight and bias get no gradient.
    public static func loraLinearBackward<T: TrainingScalar>(
        _ dy: UnsafePointer<T>,  // (N, O)
        input x: UnsafePointer<T>,  // (N, I)
        weight w: UnsafePointer<T>,  // (O, I)
        loraA a: UnsafePointer<T>,  // (I, R)
        loraB b: UnsafePointer<T>,  // (R, O)
        scale: T,
        dropoutMask: UnsafePointer<T>?,  // (N, I)
        xa: UnsafePointer<T>,  // (N, R), from the forward
        rows: Int, inputs: Int, outputs: Int, rank: Int,
        dx: UnsafeMutablePointer<T>?,  // (N, I), added into
        dA: UnsafeMutablePointer<T>,  // (I, R), added into
        dB: UnsafeMutablePointer<T>  // (R, O), added into
    ) {
        linearBackward(
            dy, input: x, weight: w, rows: rows, inputs: inputs, outputs: outputs,
            dx: dx, dWeight: nil, dBias: nil)
        var du = [T](repeating: 0, count: rank)  // (R) for the current row
        for n in 0..<rows {
            let dyn = dy + n * outputs
            for r in 0..<rank {
                var sum: T = 0
                for o in 0..<outputs {
                    sum += dyn[o] * b[r * outputs + o]
                    dB[r * outputs + o] += scale * xa[n * rank + r] * dyn[o]
                }
                du[r] = scale * sum
            }
            for i in 0..<inputs {
                let m = dropoutMask?[n * inputs + i] ?? 1
                let xi = x[n * inputs + i] * m
                var back: T = 0
                for r in 0..<rank {
                    dA[i * rank + r] += xi * du[r]
                    back += du[r] * a[i * rank + r]
                }
                dx?[n * inputs + i] += back * m
            }
        }
    }
}
