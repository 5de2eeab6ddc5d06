import CLEMKernels
import COpenBLAS
import LEMFormats

extension Kernels {
    /// Floats of scratch `matvec(_:kernel:scratch:out:)` needs for an input of `columns`:
    /// block scales and sums `(2, columns / 32)` then the 8-bit values `(columns)` bytes.
    public static func activationScratchFloats(columns: Int) -> Int { 2 * (columns / 32) + (columns + 3) / 4 }

    /// Threads the kernels use (the calling thread included): `LEM_THREADS`, else the CPU count.
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

    /// Whether the AVX2 kernels are in use (false: the portable scalar kernels).
    public static var simdEnabled: Bool { lem_simd_enabled() != 0 }

    /// Forces the portable kernels (false) or re-enables AVX2 where the CPU has it, for matvecs
    /// started on the calling thread only (tests compare the two paths on their own thread).
    public static func setSIMDEnabled(_ on: Bool) { lem_set_simd(on ? 1 : 0) }

    /// Chooses the AVX2 decode kernels for matvecs started on the calling thread only: eight rows
    /// per call (true), one row (false), or the process default (nil: eight rows unless
    /// `LEM_DOT8=0`). Pooled workers follow the caller, so a test can compare both.
    public static func setRowGroupKernels(_ eight: Bool?) { lem_set_dot8(eight.map { $0 ? 1 : 0 } ?? -1) }

    /// Whether quantized weights are dotted against the activation rounded to 8-bit blocks
    /// (llama.cpp's way, fastest; logits move by ~0.1) rather than exactly in f32 (the default,
    /// which the reference tests hold to 1e-4). `LEM_Q8_ACTIVATIONS=1` turns it on at start.
    public static var q8Activations: Bool { lem_q8_activations() != 0 }

    /// Sets `q8Activations`.
    public static func setQ8Activations(_ on: Bool) { lem_set_q8_activations(on ? 1 : 0) }

    /// Prepares the activation `x` in `scratch` (quantized to 8-bit blocks when `quantize`) and
    /// hands the C descriptor to `body`.
    @inline(__always)
    static func withActivation<R>(
        _ x: UnsafePointer<Float>,  // (in)
        columns: Int, quantize: Bool, q8: Bool,
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
        if quantize && q8 { lem_quantize_act(&act) }
        return withUnsafePointer(to: &act) { body($0) }
    }

    /// `out = W x` for one token with the C kernels: `x` is quantized once to 8-bit blocks (for
    /// quantized formats), then the rows are split across the worker pool.
    public static func matvec(
        _ x: UnsafePointer<Float>,  // (in)
        kernel: MatrixKernel,
        scratch: UnsafeMutablePointer<Float>,  // (activationScratchFloats(in))
        out: UnsafeMutablePointer<Float>,  // (out)
        q8: Bool = Kernels.q8Activations
    ) {
        withActivation(x, columns: kernel.columns, quantize: kernel.quantizesActivation, q8: q8, scratch: scratch) { act in
            withUnsafePointer(to: kernel.matrix) { m in lem_matvec(m, act, out) }
        }
        withExtendedLifetime(kernel.owner) {}
    }

    /// `out = W x` computed by one thread over rows `[0, rows)`, AVX2 or scalar as configured;
    /// the single-threaded form of `matvec`, for tests and measurements.
    public static func matvecSerial(
        _ x: UnsafePointer<Float>,  // (in)
        kernel: MatrixKernel,
        scratch: UnsafeMutablePointer<Float>,  // (activationScratchFloats(in))
        out: UnsafeMutablePointer<Float>,  // (out)
        q8: Bool = Kernels.q8Activations
    ) {
        withActivation(x, columns: kernel.columns, quantize: kernel.quantizesActivation, q8: q8, scratch: scratch) { act in
            withUnsafePointer(to: kernel.matrix) { m in lem_matvec_rows(m, act, out, 0, m.pointee.rows) }
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
                lem_pool_run_chunks({ ctx, chunk, _ in
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
