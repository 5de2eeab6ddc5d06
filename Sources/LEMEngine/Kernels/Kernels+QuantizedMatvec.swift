import CLEMKernels
import COpenBLAS
import LEMFormats

extension Kernels {
    /// Floats of scratch `matvec(_:kernel:scratch:out:)` needs for an input of `columns`:
    /// block scales and sums `(2, columns / 32)` then the 8-bit values `(columns)` bytes.
    public static func activationScratchFloats(columns: Int) -> Int { 2 * (columns / 32) + (columns + 3) / 4 }

    /// Threads the kernels use (the calling thread included): the pool's count, one per online
    /// CPU unless set (`setThreadCount`, `EngineThreads`).
    public static var threadCount: Int { Int(lem_pool_threads()) }

    /// Sets the kernel pool's thread count (`n <= 0`: back to the default) and makes OpenBLAS
    /// single-threaded.
    ///
    /// OpenBLAS is single-threaded in this process: every product that uses several threads
    /// splits its rows over the pool's (or the trainer's) threads, each calling `sgemm` on its
    /// share. Its thread count is a process-wide setting, and OpenBLAS's results depend on it, so
    /// it is set to 1 once and never switched per call (a switch during another thread's work made
    /// repeated computations differ in their last bits).
    public static func setThreadCount(_ n: Int) {
        lem_pool_set_threads(Int32(clamping: n))
        useSerialBLAS()
    }

    /// Makes OpenBLAS single-threaded (see `setThreadCount`); cheap when it already is.
    public static func useSerialBLAS() {
        if openblas_get_num_threads() != 1 { openblas_set_num_threads(1) }
    }

    /// Whether this CPU has the AVX2 + FMA + F16C instructions the fast kernels need.
    public static var cpuHasSIMD: Bool { lem_cpu_simd() != 0 }

    /// Whether this CPU also has AVX-512 F, BW, VL and VNNI, which the VNNI kernel variants need.
    public static var cpuHasVNNI: Bool { lem_cpu_vnni() != 0 }

    /// Prepares the activation `x` in `scratch` (quantized to 8-bit blocks when the matrices
    /// `quantize` and the options ask for 8-bit activations) and hands the C descriptor to `body`.
    @inline(__always)
    static func withActivation<R>(
        _ x: UnsafePointer<Float>,  // (in)
        columns: Int, quantize: Bool, options: lem_options,
        scratch: UnsafeMutablePointer<Float>,  // (activationScratchFloats(in))
        _ body: (UnsafePointer<lem_act>) -> R
    ) -> R {
        let blocks = columns / 32
        var act = lem_act()
        act.cols = Int32(columns)
        act.x = x
        act.d = scratch
        act.s = scratch + blocks
        act.q = UnsafeMutableRawPointer(scratch + 2 * blocks).assumingMemoryBound(to: Int8.self)
        if quantize { lem_prepare_act(&act, options) }
        return withUnsafePointer(to: &act) { body($0) }
    }

    /// Prepares `count` activation rows of `x` (each as `withActivation` does, in its own slice of
    /// `scratch`) and hands their C descriptors to `body`.
    static func withActivations<R>(
        _ x: UnsafePointer<Float>,  // (count, in)
        count: Int, columns: Int, quantize: Bool, options: lem_options,
        scratch: UnsafeMutablePointer<Float>,  // (count, activationScratchFloats(in))
        _ body: (UnsafePointer<lem_act>) -> R
    ) -> R {
        let blocks = columns / 32
        let stride = activationScratchFloats(columns: columns)
        return withUnsafeTemporaryAllocation(of: lem_act.self, capacity: count) { acts in
            for i in 0..<count {
                let slice = scratch + i * stride
                var act = lem_act()
                act.cols = Int32(columns)
                act.x = x + i * columns
                act.d = slice
                act.s = slice + blocks
                act.q = UnsafeMutableRawPointer(slice + 2 * blocks).assumingMemoryBound(to: Int8.self)
                if quantize { lem_prepare_act(&act, options) }
                acts[i] = act
            }
            return body(UnsafePointer(acts.baseAddress!))
        }
    }

    /// `out(b) = W x(b)` for `count` rows that are independent single-token steps (one decode
    /// step of each of `count` sequences): each row computed exactly as `matvec` computes it for
    /// that row alone, with each chunk of weight rows read from memory once for all of them
    /// (`lem_matvec_batch`).
    public static func matvecBatch(
        _ x: UnsafePointer<Float>,  // (count, in)
        count: Int,
        kernel: MatrixKernel,
        scratch: UnsafeMutablePointer<Float>,  // (count, activationScratchFloats(in))
        out: UnsafeMutablePointer<Float>,  // (count, out)
        options: EngineOptions = EngineOptions()
    ) {
        let opt = options.kernel
        withActivations(
            x, count: count, columns: kernel.columns, quantize: kernel.quantizesActivation, options: opt,
            scratch: scratch
        ) { acts in
            withUnsafePointer(to: kernel.matrix) { m in
                var matrix: UnsafePointer<lem_matrix>? = m
                var output: UnsafeMutablePointer<Float>? = out
                lem_matvec_batch(&matrix, 1, acts, Int32(count), &output, opt)
            }
        }
        withExtendedLifetime(kernel.owner) {}
    }

    /// `out = W x` for one token with the C kernels: for quantized formats with
    /// `options.q8Activations`, `x` is quantized once to 8-bit blocks; then the rows are split
    /// across the worker pool, every worker taking the paths `options` chooses. `serial`: the
    /// calling thread computes every row itself (for tests and measurements).
    public static func matvec(
        _ x: UnsafePointer<Float>,  // (in)
        kernel: MatrixKernel,
        scratch: UnsafeMutablePointer<Float>,  // (activationScratchFloats(in))
        out: UnsafeMutablePointer<Float>,  // (out)
        options: EngineOptions = EngineOptions(),
        serial: Bool = false
    ) {
        let opt = options.kernel
        let quantize = kernel.quantizesActivation
        withActivation(x, columns: kernel.columns, quantize: quantize, options: opt, scratch: scratch) { act in
            withUnsafePointer(to: kernel.matrix) { m in
                if serial { lem_matvec_rows(m, act, out, 0, m.pointee.rows, opt) } else { lem_matvec(m, act, out, opt) }
            }
        }
        withExtendedLifetime(kernel.owner) {}
    }

    /// Runs `body(c)` exactly once for every chunk `c` in `0 ..< chunks` over the worker pool
    /// (the calling thread included) and returns when all are done.
    ///
    /// Chunks run concurrently on different threads, so `body` must only touch what chunk `c`
    /// owns. A worker that wakes after every chunk was claimed skips the run (see
    /// `lem_pool_run_chunks`). More than 65535 chunks run inline.
    public static func forEachChunk(_ chunks: Int, _ body: (Int) -> Void) {
        guard chunks > 0 else { return }
        withoutActuallyEscaping(body) { escapable in
            var closure = escapable
            withUnsafeMutablePointer(to: &closure) { ctx in
                lem_pool_run_chunks(
                    { ctx, chunk, _ in
                        ctx!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(chunk))
                    }, ctx, Int32(clamping: chunks))
            }
        }
    }

    /// Rows `[start, start + count)` of `kernel`'s matrix decoded to f32, split across the pool.
    static func dequantizeRows(
        _ kernel: MatrixKernel, start: Int, count: Int,
        into out: UnsafeMutablePointer<Float>  // (count, in)
    ) {
        withUnsafePointer(to: kernel.matrix) { m in lem_dequantize_rows(m, Int32(start), Int32(start + count), out) }
        withExtendedLifetime(kernel.owner) {}
    }
}

extension EngineOptions {
    /// The per-call choices in the C kernels' form (`lem_options`).
    var kernel: lem_options {
        lem_options(
            simd: simd ? 1 : 0, q8: q8Activations ? 1 : 0, dot8: eightRowKernels ? 1 : 0, vnni: vnni ? 1 : 0)
    }
}
