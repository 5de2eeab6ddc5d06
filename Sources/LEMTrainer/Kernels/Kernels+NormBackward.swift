import LEMEngine

// Backward passes of the per-row and per-position kernels: RMS norm, RoPE, embedding lookup.
// Legend as in Kernels+TrainingForward.swift. Every gradient output is *added into*
// (`+=`), as in llm.c, so residual branches and tied weights accumulate without extra buffers;
// callers zero the gradient buffers once per step.

extension Kernels {
    /// Gradients of `rmsNormForward`: adds `∂L/∂x` into `dx` and `∂L/∂w` into `dWeight`.
    ///
    /// With `r = 1/√(mean(x²) + eps)`, `n = x·r` and `g = dy·(offset + w)`:
    /// `dx = r·(g − n·mean(g·n))`, `dw = Σ_rows dy·n`.
    public static func rmsNormBackward<T: TrainingScalar>(
        _ dy: UnsafePointer<T>,  // (N, C)
        input x: UnsafePointer<T>,  // (N, C)
        weight: UnsafePointer<T>,  // (C)
        weightOffset: T, eps: T, rows: Int, columns: Int,
        dx: UnsafeMutablePointer<T>,  // (N, C), added into
        dWeight: UnsafeMutablePointer<T>?  // (C), added into; nil when the weight is frozen
    ) {
        for r in 0..<rows {
            let xr = x + r * columns
            let dyr = dy + r * columns
            let dxr = dx + r * columns
            var sumSquares: T = 0
            for c in 0..<columns { sumSquares += xr[c] * xr[c] }
            let inverseRMS = 1 / (sumSquares / T(columns) + eps).squareRoot()
            var dot: T = 0  // Σ g·n
            for c in 0..<columns {
                let n = xr[c] * inverseRMS
                dot += dyr[c] * (weightOffset + weight[c]) * n
                dWeight?[c] += dyr[c] * n
            }
            let meanDot = dot / T(columns)
            for c in 0..<columns {
                let n = xr[c] * inverseRMS
                dxr[c] += inverseRMS * (dyr[c] * (weightOffset + weight[c]) - n * meanDot)
            }
        }
    }

    /// Gradient of `ropeForward`, in place: the rotation is orthogonal, so the gradient of its
    /// input is the output gradient rotated back by the same angles.
    public static func ropeBackward<T: TrainingScalar>(
        _ dx: UnsafeMutablePointer<T>,  // (T, heads, D): ∂L/∂y in, ∂L/∂x out
        tokens: Int, heads: Int, headDim: Int,
        positions: UnsafePointer<Int>,  // (T)
        inverseFrequencies: UnsafePointer<Double>  // (D/2)
    ) {
        rotate(
            dx, tokens: tokens, heads: heads, headDim: headDim, positions: positions,
            inverseFrequencies: inverseFrequencies, direction: -1)
    }

    /// Gradient of `embeddingForward` with respect to the table: scatters `scale·dy` rows into
    /// the rows of the tokens that were looked up.
    public static func embeddingBackward<T: TrainingScalar>(
        _ dy: UnsafePointer<T>,  // (N, C)
        tokens: UnsafePointer<Int>,  // (N)
        scale: T, rows: Int, columns: Int,
        dTable: UnsafeMutablePointer<T>  // (V, C), added into
    ) {
        for n in 0..<rows {
            let target = dTable + tokens[n] * columns
            for c in 0..<columns { target[c] += scale * dy[n * columns + c] }
        }
    }
}
