import Foundation
import LEMFormats

/// Re-quantizes a dense f32 matrix to MLX's affine group format (`w ≈ scale · q + bias` per
/// group of `groupSize` columns, q packed LSB-first into u32 words), as `lem fuse` does for an
/// adapted layer of an MLX-quantized base when `--dequantize` is not given.
///
/// Per group: `bias = min`, `scale = (max − min) / (2^bits − 1)`, both rounded to the storage
/// dtype of the base's scales first so the integers are chosen against the values actually
/// stored. (mlx's own quantizer picks the group edge slightly differently; the format is the
/// same and our loader and mlx_lm read either.)
public struct MLXAffineQuantizer: Sendable {
    /// Bits per stored integer; they must divide into bytes evenly per group (any of 2…8 with
    /// `groupSize` a multiple of 8).
    public let bits: Int
    /// Weights per group sharing one scale and bias.
    public let groupSize: Int
    /// The dtype scales and biases are stored in (f32, f16 or bf16).
    public let scaleType: SafetensorsDType

    /// The packed words `[rows, columns·bits/32]` (u32 little-endian bytes), scales and biases
    /// `[rows, columns/groupSize]`.
    public func quantize(_ w: [Float], rows: Int, columns: Int) -> (packed: [UInt8], scales: [Float], biases: [Float]) {
        precondition(
            columns % groupSize == 0 && (columns * bits) % 32 == 0,
            "MLX quantization: columns do not fill whole groups and words")
        let groups = columns / groupSize
        let rowBytes = columns * bits / 8
        let levels = Float((1 << bits) - 1)
        var packed = [UInt8](repeating: 0, count: rows * rowBytes)  // (rows, columns·bits/8)
        var scales = [Float](repeating: 0, count: rows * groups)  // (rows, groups)
        var biases = [Float](repeating: 0, count: rows * groups)  // (rows, groups)
        for r in 0..<rows {
            for g in 0..<groups {
                let start = r * columns + g * groupSize
                var lo = Float.infinity
                var hi = -Float.infinity
                for i in start..<start + groupSize {
                    lo = min(lo, w[i])
                    hi = max(hi, w[i])
                }
                let scale = stored(max((hi - lo) / levels, 1e-12))
                let bias = stored(lo)
                scales[r * groups + g] = scale
                biases[r * groups + g] = bias
                for i in 0..<groupSize {
                    let q = UInt32(min(levels, max(0, ((w[start + i] - bias) / scale).rounded())))
                    let bit = (g * groupSize + i) * bits
                    var byte = r * rowBytes + bit >> 3
                    var shift = bit & 7
                    var value = q
                    var left = bits
                    while left > 0 {
                        packed[byte] |= UInt8(truncatingIfNeeded: value << UInt32(shift))
                        let written = 8 - shift
                        value >>= UInt32(written)
                        left -= written
                        byte += 1
                        shift = 0
                    }
                }
            }
        }
        return (packed, scales, biases)
    }

    /// `x` rounded to the scales' storage dtype.
    func stored(_ x: Float) -> Float {
        switch scaleType {
        case .bf16: return HalfFloat.bf16ToFloat(HalfFloat.floatToBF16(x))
        case .f16: return HalfFloat.f16ToFloat(HalfFloat.floatToF16(x))
        default: return x
        }
    }
}
