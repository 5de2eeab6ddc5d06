import Foundation

/// How many threads the engine's kernels may use: the one place that decides it.
///
/// The default is `LEM_THREADS` from the environment when it is a positive integer, else the
/// number of active processors capped at 8. `set(_:)` changes it for the whole process (the
/// `--threads` option of `lem bench-speed`). OpenBLAS stays single-threaded: products that
/// use `sgemm` split their rows over these threads themselves (`Kernels.setThreadCount`).
/// Kernels read `count` on every call, so a change takes effect at the next matmul.
public enum EngineThreads {
    /// The environment variable that sets the default thread count.
    public static let environmentKey = "LEM_THREADS"

    /// The thread count in use (always ≥ 1): the kernel pool's, which reads `LEM_THREADS` the
    /// same way `defaultCount` does.
    public static var count: Int { Kernels.threadCount }

    /// Sets the thread count for the kernel pool; values below 1 are treated as 1.
    public static func set(_ threads: Int) {
        Kernels.setThreadCount(max(1, threads))
    }

    /// The default for an environment: a positive `LEM_THREADS`, else the active processors
    /// capped at 8.
    public static func defaultCount(environment: [String: String]) -> Int {
        if let text = environment[environmentKey], let value = Int(text.trimmingCharacters(in: .whitespaces)),
            value > 0
        {
            return value
        }
        return max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
    }
}
