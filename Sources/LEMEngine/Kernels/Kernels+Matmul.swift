import COpenBLAS
import Foundation
import LEMFormats

extension Kernels {
    /// Rows of a weight decoded per block by `matmul`: the f32 tile is `matmulTileRows × in`.
    public static let matmulTileRows = 64

    /// `out = x Wᵀ (+ bias)` for `T` activation rows and a weight stored `[out, in]`: the naive
    /// oracle.
    ///
    /// Each weight row is decoded once into `scratch` and dotted with all `T` inputs, so a
    /// quantized matrix is never expanded as a whole.
    public static func matmulNaive(
        _ x: UnsafePointer<Float>,  // (T, in)
        weight: any WeightTensor,  // [out, in]
        bias: UnsafePointer<Float>?,  // (out)
        tokens: Int,
        scratch: UnsafeMutablePointer<Float>,  // (in)
        out: UnsafeMutablePointer<Float>  // (T, out)
    ) {
        let inFeatures = weight.columns, outFeatures = weight.rows
        for o in 0 ..< outFeatures {
            weight.decodeRow(o, into: scratch)
            let b = bias?[o] ?? 0
            for t in 0 ..< tokens {
                let xr = x + t * inFeatures
                var dot: Float = 0
                for i in 0 ..< inFeatures { dot += xr[i] * scratch[i] }
                out[t * outFeatures + o] = dot + b
            }
        }
    }

    /// `out = x Wᵀ (+ bias)` through OpenBLAS: blocks of `matmulTileRows` weight rows are decoded
    /// into an f32 tile and multiplied with `cblas_sgemm`; `matmulNaive` is its oracle.
    ///
    /// Works for every encoding (f32 rows are copied into the tile, quantized rows decoded), and
    /// only one tile is ever expanded at a time.
    public static func matmul(
        _ x: UnsafePointer<Float>,  // (T, in)
        weight: any WeightTensor,  // [out, in]
        bias: UnsafePointer<Float>?,  // (out)
        tokens: Int,
        tile: UnsafeMutablePointer<Float>,  // (matmulTileRows, in)
        out: UnsafeMutablePointer<Float>  // (T, out)
    ) {
        let inFeatures = weight.columns, outFeatures = weight.rows
        var start = 0
        while start < outFeatures {
            let rows = min(matmulTileRows, outFeatures - start)
            for r in 0 ..< rows { weight.decodeRow(start + r, into: tile + r * inFeatures) }
            if tokens == 1 {
                // y(rows) = tile(rows, in) · x(in)
                cblas_sgemv(
                    CblasRowMajor, CblasNoTrans, Int32(rows), Int32(inFeatures), 1, tile, Int32(inFeatures),
                    x, 1, 0, out + start, 1)
            } else {
                // out[:, start ..< start + rows] = x(T, in) · tile(rows, in)ᵀ
                cblas_sgemm(
                    CblasRowMajor, CblasNoTrans, CblasTrans, Int32(tokens), Int32(rows), Int32(inFeatures), 1,
                    x, Int32(inFeatures), tile, Int32(inFeatures), 0, out + start, Int32(outFeatures))
            }
            start += rows
        }
        if let bias {
            for t in 0 ..< tokens {
                let row = out + t * outFeatures
                for o in 0 ..< outFeatures { row[o] += bias[o] }
            }
        }
    }
}
