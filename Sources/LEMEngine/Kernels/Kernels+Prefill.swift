import CLEMKernels
import COpenBLAS
import Foundation
import LEMFormats

extension Kernels {
    /// How a chunk of several tokens is multiplied (measured in docs/PERFORMANCE.md; chosen by
    /// `EngineOptions.prefill`, `LEM_PREFILL=dots|gemm|pool|blas` in the program).
    public enum PrefillStrategy: String, Sendable {
        /// The caller dequantizes `matmulTileRows`-row tiles and runs `sgemm` on each, on its
        /// own thread (OpenBLAS is single-threaded in this process, see `Kernels.setThreadCount`):
        /// the plain baseline.
        case blasThreads
        /// The pool splits the output rows; each worker dequantizes its own tiles and runs a
        /// single-threaded `sgemm`, so only one set of threads ever competes for the cores.
        case poolTiles
        /// No OpenBLAS: the pool hands out L2-sized chunks of rows; each worker dequantizes its
        /// chunk once and runs the C register-blocked kernel (`lem_gemm_nt`) over all tokens.
        case fusedGemm
        /// Under 8-bit activations, the formats with a fast several-activation integer kernel
        /// (Q4_0, Q4_1, Q5_0, Q8_0, MLX 4-bit; `dotsInt8`) go through the batched decode dots,
        /// each token getting exactly what its own decode step would; every other matrix takes
        /// `fusedGemm`.
        case integerDots
    }

    /// `out = x Wᵀ` for `T > 1` tokens over the stored blocks of `kernel` (no bias), by
    /// `options.prefill`: with `.integerDots` under 8-bit activations, the formats `dotsInt8` names
    /// go through the batched decode kernels — integer dots (VNNI where the CPU has it) that give
    /// each token what a decode step gives it, bit for bit, at 1.7–3× the f32 GEMM's speed on the
    /// interleaved copies; otherwise the fused GEMM (with `options.simd` choosing its body).
    static func prefillMatmul(
        _ x: UnsafePointer<Float>,  // (T, in)
        kernel: MatrixKernel,
        tokens: Int,
        tile: UnsafeMutablePointer<Float>,  // (matmulTileRows, in)
        out: UnsafeMutablePointer<Float>,  // (T, out)
        options: EngineOptions = EngineOptions()
    ) {
        let inFeatures = kernel.columns
        let outFeatures = kernel.rows
        if options.prefill == .integerDots, dotsInt8(kernel, options: options) {
            // The tile holds the quantized activations of as many tokens as fit.
            let perPass = max(1, matmulTileRows * inFeatures / activationScratchFloats(columns: inFeatures))
            var start = 0
            while start < tokens {
                let count = min(perPass, tokens - start)
                matvecBatch(
                    x + start * inFeatures, count: count, kernel: kernel, scratch: tile, out: out + start * outFeatures,
                    options: options)
                start += count
            }
            return
        }
        let workers = threadCount
        let strategy = options.prefill
        if strategy == .fusedGemm || strategy == .integerDots {
            withUnsafePointer(to: kernel.matrix) { m in
                lem_prefill_matmul(m, x, Int32(tokens), tile, Int32(matmulTileRows), out, options.kernel)
            }
            withExtendedLifetime(kernel.owner) {}
            return
        }
        if strategy == .blasThreads || workers <= 1 {
            var start = 0
            while start < outFeatures {
                let rows = min(matmulTileRows, outFeatures - start)
                withUnsafePointer(to: kernel.matrix) { m in
                    for r in 0..<rows { lem_dequantize_row(m, Int32(start + r), tile + r * inFeatures) }
                }
                sgemmTile(
                    x, tile: tile, tokens: tokens, rows: rows, inFeatures: inFeatures, out: out + start,
                    ldOut: outFeatures)
                start += rows
            }
            withExtendedLifetime(kernel.owner) {}
            return
        }
        // Workers call sgemm concurrently; OpenBLAS runs each call single-threaded.
        var job = withUnsafePointer(to: kernel.matrix) { m in
            PrefillJob(
                x: x, matrix: m.pointee, tokens: tokens, tile: tile, tileRows: max(1, matmulTileRows / workers),
                out: out)
        }
        withUnsafeMutablePointer(to: &job) { ptr in
            lem_pool_run(
                { ctx, worker, workers in
                    ctx!.assumingMemoryBound(to: PrefillJob.self).pointee.run(
                        worker: Int(worker), workers: Int(workers))
                }, ptr)
        }
        withExtendedLifetime(kernel.owner) {}
    }

    /// Whether a prefill over `kernel` runs as batched 8-bit decode dots: 8-bit activations, the
    /// SIMD kernels, and a format whose several-activation kernel beats the f32 GEMM
    /// (`lem_prefill_dots_supported`: the interleaved formats, whether this matrix has the copy or
    /// not, so the layout never changes a result). K-quants and the float formats keep the f32
    /// GEMM.
    static func dotsInt8(_ kernel: MatrixKernel, options: EngineOptions) -> Bool {
        guard kernel.quantizesActivation, options.q8Activations, options.simd, cpuHasSIMD else { return false }
        return withUnsafePointer(to: kernel.matrix) { lem_prefill_dots_supported($0) != 0 }
    }

    /// `out[:, 0 ..< rows] = x(T, in) · tile(rows, in)ᵀ` with row stride `ldOut`.
    @inline(__always)
    static func sgemmTile(
        _ x: UnsafePointer<Float>, tile: UnsafePointer<Float>, tokens: Int, rows: Int, inFeatures: Int,
        out: UnsafeMutablePointer<Float>, ldOut: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(tokens), Int32(rows), Int32(inFeatures), 1,
            x, Int32(inFeatures), tile, Int32(inFeatures), 0, out, Int32(ldOut))
    }
}

/// One pooled prefill matmul: worker `w` owns output rows `[w·R/W, (w+1)·R/W)` and tile slice `w`.
private struct PrefillJob {
    let x: UnsafePointer<Float>  // (T, in)
    let matrix: lem_matrix
    let tokens: Int
    let tile: UnsafeMutablePointer<Float>  // (workers, tileRows, in)
    let tileRows: Int
    let out: UnsafeMutablePointer<Float>  // (T, out)

    func run(worker: Int, workers: Int) {
        let rows = Int(matrix.rows)
        let cols = Int(matrix.cols)
        let lo = rows * worker / workers
        let hi = rows * (worker + 1) / workers
        let myTile = tile + worker * tileRows * cols
        var start = lo
        withUnsafePointer(to: matrix) { m in
            while start < hi {
                let n = min(tileRows, hi - start)
                for r in 0..<n { lem_dequantize_row(m, Int32(start + r), myTile + r * cols) }
                Kernels.sgemmTile(
                    x, tile: myTile, tokens: tokens, rows: n, inFeatures: cols, out: out + start, ldOut: rows)
                start += n
            }
        }
    }
}
