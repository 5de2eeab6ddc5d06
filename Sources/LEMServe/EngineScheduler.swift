import Dispatch
import Foundation
import LEMEngine

/// Admits jobs into a bounded first-come-first-served queue and feeds them to the engine's lane.
///
/// Up to `lane.width` jobs run at once, all on one model: the engine's worker pool and the cores
/// are shared by every model, so two models generating side by side would only slow each other,
/// while jobs on one model decode together (`BatchedLane`). A waiting job starts as soon as a
/// running one ends, when it is the oldest waiting and on the running jobs' model (or nothing
/// runs), so a job on another model waits for the running ones to drain rather than starve. A
/// job cancelled while waiting leaves the queue at once (its place goes to the next request);
/// one cancelled while running stops before its next token.
public final class EngineScheduler: @unchecked Sendable {
    /// The most jobs waiting (running ones not counted) before `submit` refuses.
    public let capacity: Int
    /// Runs the jobs.
    public let lane: any DecodeLane
    private let lock = NSLock()
    // Guarded by `lock`.
    private var waiting: [EngineJob] = []
    private var running: [EngineJob] = []
    private var served = 0
    private let queue = DispatchQueue(label: "lem.serve.engine", qos: .userInitiated, attributes: .concurrent)

    /// A scheduler admitting up to `capacity` waiting jobs into `lane`.
    public init(capacity: Int, lane: any DecodeLane = SequentialLane()) {
        self.capacity = max(0, capacity)
        self.lane = lane
    }

    /// The queue is full.
    public struct QueueFull: Error {}

    /// Queues `job`; throws `QueueFull` when `capacity` jobs are already waiting.
    public func submit(_ job: EngineJob) throws {
        lock.lock()
        // A job only waits when the lane is busy: an idle engine takes it even at capacity 0.
        if !running.isEmpty || !waiting.isEmpty, waiting.count >= capacity {
            lock.unlock()
            throw QueueFull()
        }
        waiting.append(job)
        lock.unlock()
        pump()
    }

    /// Cancels `job`: removed if it is still waiting, stopped at its next token if running.
    public func cancel(_ job: EngineJob) {
        job.handle.cancel()
        lock.lock()
        let index = waiting.firstIndex { $0 === job }
        if let index { waiting.remove(at: index) }
        lock.unlock()
        if index != nil {
            job.emit(
                .finished(
                    GenerationStats(
                        promptTokens: job.request.promptIds.count, generatedTokens: 0, promptSeconds: 0,
                        generationSeconds: 0,
                        stopReason: .cancelled)))
        }
    }

    /// Jobs waiting, jobs running and jobs finished so far.
    public var load: (waiting: Int, running: Int, served: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (waiting.count, running.count, served)
    }

    /// Starts the oldest waiting jobs while the lane has room for them.
    private func pump() {
        lock.lock()
        var started: [EngineJob] = []
        while running.count < max(1, lane.width), let next = waiting.first,
            running.first.map({ $0.model === next.model }) ?? true
        {
            waiting.removeFirst()
            running.append(next)
            started.append(next)
        }
        lock.unlock()
        for job in started {
            queue.async { [self] in
                lane.run([job])
                lock.lock()
                running.removeAll { $0 === job }
                served += 1
                lock.unlock()
                pump()
            }
        }
    }
}
