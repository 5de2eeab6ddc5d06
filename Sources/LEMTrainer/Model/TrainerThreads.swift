import Dispatch
import Foundation
import LEMEngine

/// How the fast trainer spreads its work over the CPU: over `EngineOptions.threads` threads.
///
/// OpenBLAS runs single-threaded (`Kernels.useSerialBLAS`) and the trainer cuts each big product
/// into one share per thread (output rows of a linear layer, a slice of the vocabulary, a batch row):
/// every thread decodes and multiplies its own share, and nobody waits until the end. With
/// OpenBLAS's own threads, every call was a fork and join, and its idle threads spun in
/// `sched_yield` against the trainer's decode and activation threads.
struct TrainerThreads: Sendable {
    /// The options' thread count; nil: the engine's kernel pool's, read at each product.
    let threads: Int?

    /// The threads `options` ask for.
    init(_ options: EngineOptions) { threads = options.threads }

    /// Threads to use (≥ 1): the options' count, else the engine's kernel pool's (one per online
    /// CPU unless the program set it).
    var count: Int { max(1, threads ?? Kernels.threadCount) }

    /// `0 ..< total` cut into at most `count` contiguous, non-empty ranges of at least
    /// `minimumPart` elements (a single range when `total` is small).
    func ranges(_ total: Int, minimumPart: Int) -> [Range<Int>] {
        guard total > 0 else { return [] }
        let parts = max(1, min(count, total / max(1, minimumPart)))
        let per = (total + parts - 1) / parts
        return stride(from: 0, to: total, by: per).map { $0..<min(total, $0 + per) }
    }

    /// Runs `body(0 ..< parts)`, concurrently when there is more than one part.
    func run(_ parts: Int, _ body: @Sendable (Int) -> Void) {
        if parts == 1 { return body(0) }
        if parts > 1 { DispatchQueue.concurrentPerform(iterations: parts, execute: body) }
    }

    /// Runs `body` over `ranges(total, minimumPart:)`, one range per thread.
    func split(_ total: Int, minimumPart: Int, _ body: @Sendable (Range<Int>) -> Void) {
        let parts = ranges(total, minimumPart: minimumPart)
        run(parts.count) { body(parts[$0]) }
    }
}

/// An f32 buffer from a `ScratchPool`.
public final class ScratchBuffer: @unchecked Sendable {
    /// The buffer's start.
    public let pointer: UnsafeMutablePointer<Float>
    /// Floats it holds.
    public let capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        pointer = .allocate(capacity: self.capacity)
    }

    deinit { pointer.deallocate() }
}

/// Reusable f32 scratch for tiles and partial sums, so the thousands of products in a training
/// step don't each allocate (and fault in) fresh pages. Thread-safe; keeps at most
/// `retained` free buffers, dropping the smallest.
public final class ScratchPool: @unchecked Sendable {
    private let lock = NSLock()
    private var free: [ScratchBuffer] = []
    private let retained: Int

    /// An empty pool keeping up to `retained` free buffers.
    public init(retained: Int = 12) { self.retained = retained }

    /// A buffer of at least `count` floats (contents undefined): the smallest free one that fits,
    /// else a new one.
    public func take(_ count: Int) -> ScratchBuffer {
        lock.lock()
        defer { lock.unlock() }
        var best: Int?
        for index in free.indices where free[index].capacity >= count {
            if best.map({ free[index].capacity < free[$0].capacity }) ?? true { best = index }
        }
        if let best { return free.remove(at: best) }
        return ScratchBuffer(capacity: count)
    }

    /// Returns `buffer` for reuse.
    public func give(_ buffer: ScratchBuffer) {
        lock.lock()
        defer { lock.unlock() }
        free.append(buffer)
        if free.count > retained, let smallest = free.indices.min(by: { free[$0].capacity < free[$1].capacity }) {
            free.remove(at: smallest)
        }
    }
}
