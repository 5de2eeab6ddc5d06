import CLEMKernels

/// How many threads the engine's kernels may use: the one place that decides it.
///
/// The kernel pool is one per process, so its thread count is the one engine setting that is not
/// per model: one per online CPU (at most 64) until `apply(_:)` hands it `EngineOptions.threads`
/// (the program does, from `LEM_THREADS`) or `set(_:)` changes it (the `--threads` option of
/// `lem bench-speed`). OpenBLAS stays single-threaded: products that use `sgemm` split their rows
/// over these threads themselves (`Kernels.setThreadCount`). Kernels read `count` on every call,
/// so a change takes effect at the next matmul.
public enum EngineThreads {
    /// The thread count in use (always ≥ 1): the kernel pool's.
    public static var count: Int { Kernels.threadCount }

    /// Sets the thread count for the kernel pool and makes OpenBLAS single-threaded
    /// (`Kernels.setThreadCount`); values below 1 are treated as 1.
    public static func set(_ threads: Int) {
        Kernels.setThreadCount(max(1, threads))
    }

    /// Gives the kernel pool `options.threads`, when set (nil leaves the pool's count as it is).
    ///
    /// Only the pool, as `LEM_THREADS` always did: OpenBLAS's own thread count is left to
    /// `set(_:)` and the trainer.
    public static func apply(_ options: EngineOptions) {
        if let threads = options.threads { lem_pool_set_threads(Int32(clamping: max(1, threads))) }
    }
}
