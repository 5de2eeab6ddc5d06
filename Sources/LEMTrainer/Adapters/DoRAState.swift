import LEMEngine

// DoRA (weight-decomposed LoRA) as mlx_lm's DoRALinear trains it, for both trainer models:
//   y0  = x Wᵀ + s·(x A) B          (the LoRA linear without its bias)
//   out = (m / n) ⊙ y0 + bias       with n = ‖W + s·(A B)ᵀ‖ per output row, a constant
// The blocks' `linear` turns the LoRA output into DoRA's and records y0; `linearBackward` turns
// the output gradient into y0's (adding dm) before the plain LoRA backward
// (LoRADecoder+Block.swift). The kernels are in Kernels+DoRA.swift; each model computes the row
// norms its own way (`LoRADecoder.doraRowNorms`).
// Legend: N rows, O outputs.

/// One DoRA layer during a step: the magnitude `m` and the row norms `n = ‖W + s·(A B)ᵀ‖`
/// (constants for the gradient, recomputed from the current A and B at every step).
struct DoRAState<T: TrainingScalar>: Sendable {
    var magnitude: [T]  // (O)
    var norms: [T]  // (O)
    var outputs: Int { norms.count }

    /// Turns `y` (the LoRA output with the bias) into `(m / n) ⊙ y0 + bias`; returns y0.
    func forward(
        _ y: inout [T],  // (N, O)
        bias: [T]?
    ) -> [T] {
        let o = outputs
        let n = y.count / o
        var y0 = y  // (N, O)
        if let bias {
            for r in 0..<n { for c in 0..<o { y0[r * o + c] -= bias[c] } }
        }
        bias.withOptionalPointer { bias in
            Kernels.doraRescale(y0, magnitude: magnitude, norms: norms, bias: bias, rows: n, outputs: o, into: &y)
        }
        return y0
    }

    /// The gradient of y0 from that of the DoRA output `dOut`, adding into `dMagnitude`.
    func backward(
        _ dOut: [T],  // (N, O)
        y0: [T],  // (N, O)
        dMagnitude: inout [T]
    ) -> [T] {  // (O)
        var dY0 = [T](repeating: 0, count: dOut.count)  // (N, O)
        Kernels.doraRescaleBackward(
            dOut, y0: y0, magnitude: magnitude, norms: norms, rows: dOut.count / outputs,
            outputs: outputs, dY0: &dY0, dMagnitude: &dMagnitude)
        return dY0
    }
}
