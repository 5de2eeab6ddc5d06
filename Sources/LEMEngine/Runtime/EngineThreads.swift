import COpenBLAS
import Foundation
import Synchronization

/// How many threads the engine's kernels may use: the one place that decides it.
///
/// The default is `LEM_THREADS` from the environment when it is a positive integer, else the
/// number of active processors capped at 8. `set(_:)` changes it for the whole process (the
/// `--threads` option of `lem bench-speed`) and also tells OpenBLAS, whose `sgemm` runs the
/// prefill, so both halves of a forward pass use the same count. Kernels read `count` on every
/// call, so a change takes effect at the next matmul.
public enum EngineThreads {
    /// 0 means "not set yet": the default is computed on first read.
    private static let stored = Atomic<Int>(0)

    /// The environment variable that sets the default thread count.
    public static let environmentKey = "LEM_THREADS"

    /// The thread count in use (always ≥ 1).
    public static var count: Int {
        let value = stored.load(ordering: .relaxed)
        if value > 0 { return value }
        let initial = defaultCount(environment: ProcessInfo.processInfo.environment)
        let (exchanged, original) = stored.compareExchange(expected: 0, desired: initial, ordering: .relaxed)
        if exchanged { openblas_set_num_threads(Int32(initial)) }
        return exchanged ? initial : original
    }

    /// Sets the thread count for the engine and OpenBLAS; values below 1 are treated as 1.
    public static func set(_ threads: Int) {
        let value = max(1, threads)
        stored.store(value, ordering: .relaxed)
        openblas_set_num_threads(Int32(value))
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
