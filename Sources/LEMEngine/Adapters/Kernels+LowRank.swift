import COpenBLAS
import Foundation

// Legend: T tokens, I input features, R adapter rank, O output features.
extension Kernels {
    /// `out += scale · (x A) B`, LoRA's low-rank term, through two `cblas_sgemm` calls.
    ///
    /// `hidden` holds `x A` for `tokens` rows; callers pass at most as many rows as it fits.
    /// `lowRankAddNaive` is its oracle.
    public static func lowRankAdd(
        _ x: UnsafePointer<Float>,  // (T, I)
        a: UnsafePointer<Float>,  // (I, R)
        b: UnsafePointer<Float>,  // (R, O)
        scale: Float,
        tokens: Int, inputs: Int, rank: Int, outputs: Int,
        hidden: UnsafeMutablePointer<Float>,  // (T, R)
        out: UnsafeMutablePointer<Float>  // (T, O)
    ) {
        guard tokens > 0, rank > 0 else { return }
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(tokens), Int32(rank), Int32(inputs), 1,
            x, Int32(inputs), a, Int32(rank), 0, hidden, Int32(rank))
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(tokens), Int32(outputs), Int32(rank), scale,
            hidden, Int32(rank), b, Int32(outputs), 1, out, Int32(outputs))
    }

    /// The plain-loop oracle of `lowRankAdd`.
    public static func lowRankAddNaive(
        _ x: UnsafePointer<Float>,  // (T, I)
        a: UnsafePointer<Float>,  // (I, R)
        b: UnsafePointer<Float>,  // (R, O)
        scale: Float,
        tokens: Int, inputs: Int, rank: Int, outputs: Int,
        out: UnsafeMutablePointer<Float>  // (T, O)
    ) {
        for t in 0..<tokens {
            for o in 0..<outputs {
                var sum: Float = 0
                for r in 0..<rank {
                    var h: Float = 0
                    for i in 0..<inputs { h += x[t * inputs + i] * a[i * rank + r] }
                    sum += h * b[r * outputs + o]
                }
                out[t * outputs + o] += scale * sum
            }
        }
    }

    /// DoRA's output rescale: `out[t, o] = (out[t, o] − bias[o]) · rowScale[o] + bias[o]`.
    ///
    /// mlx_lm's DoRALinear scales `x Wᵀ + scale·(xA)B` and adds the bias afterwards; our base
    /// matmul has already added the bias, so it is taken out first.
    public static func rescaleRows(
        _ out: UnsafeMutablePointer<Float>,  // (T, O)
        rowScale: UnsafePointer<Float>,  // (O)
        bias: UnsafePointer<Float>?,  // (O)
        tokens: Int, outputs: Int
    ) {
        for t in 0..<tokens {
            let row = out + t * outputs
            if let bias {
                for o in 0..<outputs { row[o] = (row[o] - bias[o]) * rowScale[o] + bias[o] }
            } else {
                for o in 0..<outputs { row[o] *= rowScale[o] }
            }
        }
    }
}
