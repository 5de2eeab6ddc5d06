import Foundation

extension Kernels {
    /// RMS-normalizes each of `rows` rows of `x` and scales by `weight + offset`.
    ///
    /// `out[r, c] = x[r, c] / sqrt(mean(x[r, :]^2) + eps) * (offset + weight[c])`, computed in f32
    /// as transformers does. Llama/Qwen use `offset = 0`; Gemma stores `w` with the `1 + w`
    /// convention (transformers Gemma3RMSNorm: `x * (1 + w)`), so it passes `offset = 1`.
    /// `out` may alias `x`.
    public static func rmsNorm(
        _ x: UnsafePointer<Float>,  // (rows, C)
        weight: UnsafePointer<Float>,  // (C)
        offset: Float, eps: Float, rows: Int, channels: Int,
        out: UnsafeMutablePointer<Float>  // (rows, C)
    ) {
        for r in 0..<rows {
            let row = x + r * channels
            var sumSquares: Float = 0
            for c in 0..<channels { sumSquares += row[c] * row[c] }
            let inv = 1 / (sumSquares / Float(channels) + eps).squareRoot()
            let dst = out + r * channels
            for c in 0..<channels { dst[c] = row[c] * inv * (offset + weight[c]) }
        }
    }

    /// Array convenience for `rmsNorm`: returns a new `(rows, C)` buffer.
    public static func rmsNorm(_ x: [Float], weight: [Float], offset: Float, eps: Float) -> [Float] {
        precondition(!weight.isEmpty && x.count % weight.count == 0, "rmsNorm: x is not a whole number of rows")
        var out = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { xp in
            weight.withUnsafeBufferPointer { wp in
                out.withUnsafeMutableBufferPointer { op in
                    rmsNorm(
                        xp.baseAddress!, weight: wp.baseAddress!, offset: offset, eps: eps,
                        rows: x.count / weight.count, channels: weight.count, out: op.baseAddress!)
                }
            }
        }
        return out
    }
}
