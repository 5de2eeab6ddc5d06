import COpenBLAS
import Foundation
import LEMFormats

extension Kernels {
    /// Rows of a weight decoded per block by `matmul`: the f32 tile is `matmulTileRows × in`.
    public static let matmulTileRows = 256

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
        let inFeatures = weight.columns
        let outFeatures = weight.rows
        for o in 0..<outFeatures {
            weight.decodeRow(o, into: scratch)
            let b = bias?[o] ?? 0
            for t in 0..<tokens {
                let xr = x + t * inFeatures
                var dot: Float = 0
                for i in 0..<inFeatures { dot += xr[i] * scratch[i] }
                out[t * outFeatures + o] = dot + b
            }
        }
    }

    /// Threads a single-token matmul is split across (decode is bound by decoding weight rows):
    /// `EngineThreads.count`, at most one scratch row per tile row.
    public static var matmulWorkers: Int { min(EngineThreads.count, matmulTileRows) }

    /// `a · b` over `count` floats, eight lanes at a time.
    @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var acc = SIMD8<Float>(repeating: 0)
        var i = 0
        let ra = UnsafeRawPointer(a)
        let rb = UnsafeRawPointer(b)
        while i + 8 <= count {
            acc +=
                ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        var sum = acc.sum()
        while i < count {
            sum += a[i] * b[i]
            i += 1
        }
        return sum
    }

    /// `out = x Wᵀ (+ bias)`: one token through the quantized C kernels, several through OpenBLAS
    /// on dequantized tiles; `matmulNaive` is its oracle.
    ///
    /// Resolves the weight's kernel on every call (a cast and a few loads); layers that call
    /// repeatedly keep a `MatrixKernel` and use `matmul(_:weight:kernel:...)`.
    public static func matmul(
        _ x: UnsafePointer<Float>,  // (T, in)
        weight: any WeightTensor,  // [out, in]
        bias: UnsafePointer<Float>?,  // (out)
        tokens: Int,
        tile: UnsafeMutablePointer<Float>,  // (matmulTileRows, in)
        out: UnsafeMutablePointer<Float>,  // (T, out)
        options: EngineOptions = EngineOptions()
    ) {
        matmul(
            x, weight: weight, kernel: MatrixKernel(weight), bias: bias, tokens: tokens, tile: tile, out: out,
            options: options)
    }

    /// `out = x Wᵀ (+ bias)` with the weight's resolved `kernel` (nil: decode rows generically).
    ///
    /// One token: the C matvec on the stored blocks. Several: `prefillMatmul` with the strategy of
    /// `options`, or (without a kernel) blocks of `matmulTileRows` weight rows dequantized into an
    /// f32 tile and multiplied with `cblas_sgemm`, so only one tile is ever expanded at a time.
    /// `decode`: the rows are independent single-token steps (several sequences' decode steps),
    /// each computed as the one-token path computes it (`matvecBatch`), not as a prefill.
    public static func matmul(
        _ x: UnsafePointer<Float>,  // (T, in)
        weight: any WeightTensor,  // [out, in]
        kernel: MatrixKernel?,
        bias: UnsafePointer<Float>?,  // (out)
        tokens: Int,
        tile: UnsafeMutablePointer<Float>,  // (matmulTileRows, in)
        out: UnsafeMutablePointer<Float>,  // (T, out)
        options: EngineOptions = EngineOptions(),
        decode: Bool = false
    ) {
        let inFeatures = weight.columns
        let outFeatures = weight.rows
        if tokens == 1, let kernel {
            matvec(x, kernel: kernel, scratch: tile, out: out, options: options)
        } else if tokens == 1 {
            matvec(x, weight: weight, scratch: tile, out: out)
        } else if decode, let kernel {
            matvecBatch(x, count: tokens, kernel: kernel, scratch: tile, out: out, options: options)
        } else if decode {
            for t in 0..<tokens {
                matvec(x + t * inFeatures, weight: weight, scratch: tile, out: out + t * outFeatures)
            }
        } else if let kernel {
            prefillMatmul(x, kernel: kernel, tokens: tokens, tile: tile, out: out, options: options)
        } else {
            var start = 0
            while start < outFeatures {
                let rows = min(matmulTileRows, outFeatures - start)
                for r in 0..<rows { weight.decodeRow(start + r, into: tile + r * inFeatures) }
                // out[:, start ..< start + rows] = x(T, in) · tile(rows, in)ᵀ
                cblas_sgemm(
                    CblasRowMajor, CblasNoTrans, CblasTrans, Int32(tokens), Int32(rows), Int32(inFeatures), 1,
                    x, Int32(inFeatures), tile, Int32(inFeatures), 0, out + start, Int32(outFeatures))
                start += rows
            }
        }
        if let bias {
            for t in 0..<tokens {
                let row = out + t * outFeatures
                for o in 0..<outFeatures { row[o] += bias[o] }
            }
        }
    }

    /// `out = W x` for one token in an encoding the C kernels do not read: the output rows split
    /// across `matmulWorkers` threads, each decoding one weight row at a time into its own slice
    /// of `scratch`.
    static func matvec(
        _ x: UnsafePointer<Float>,  // (in)
        weight: any WeightTensor,  // [out, in]
        scratch: UnsafeMutablePointer<Float>,  // (matmulWorkers, in), fits in the matmul tile
        out: UnsafeMutablePointer<Float>  // (out)
    ) {
        let inFeatures = weight.columns
        let outFeatures = weight.rows
        let workers = min(matmulWorkers, max(1, outFeatures / 64))
        let perWorker = (outFeatures + workers - 1) / workers
        // Raw pointers are not Sendable; each worker writes disjoint rows of `out` and its own
        // scratch row, so sharing them is safe.
        let shared = SharedPointers(x: x, scratch: scratch, out: out)
        let work = { @Sendable (w: Int) in
            let row = shared.scratch + w * inFeatures
            for o in (w * perWorker)..<min(outFeatures, (w + 1) * perWorker) {
                weight.decodeRow(o, into: row)
                shared.out[o] = dot(shared.x, row, count: inFeatures)
            }
        }
        if workers == 1 {
            work(0)
        } else {
            DispatchQueue.concurrentPerform(iterations: workers, execute: work)
        }
    }
}

/// Pointers handed to worker threads that touch disjoint parts of them.
private struct SharedPointers: @unchecked Sendable {
    let x: UnsafePointer<Float>
    let scratch: UnsafeMutablePointer<Float>
    let out: UnsafeMutablePointer<Float>
}
