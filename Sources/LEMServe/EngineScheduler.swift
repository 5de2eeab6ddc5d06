import Dispatch
import Foundation
import LEMEngine

/// Admits jobs into a bounded first-come-first-served queue and feeds them to the engine's lane,
/// one batch at a time, on a queue of its own.
///
/// One lane runs at a time for the whole process: the engine's worker pool and the two cores are
/// shared by every model, so two generations side by side would only slow each other. A job
/// cancelled while waiting leaves the queue at once (its place goes to the next request); one
/// cancelled while running stops before its next token. With a lane wider than 1 (batched
/// decode), the jobs of a batch are the oldest waiting ones on the oldest job's model.
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
    private let queue = DispatchQueue(label: "lem.serve.engine", qos: .userInitiated)

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

    /// Starts the next batch if the lane is idle.
    private func pump() {
        lock.lock()
        guard running.isEmpty, let first = waiting.first else {
            lock.unlock()
            return
        }
        var batch: [EngineJob] = []
        var rest: [EngineJob] = []
        for job in waiting {
            if batch.count < max(1, lane.width), job.model === first.model {
                batch.append(job)
            } else {
                rest.append(job)
            }
        }
        waiting = rest
        running = batch
        lock.unlock()
        let jobs = batch
        queue.async { [self] in
            lane.run(jobs)
            lock.lock()
            running = []
            served += jobs.count
            lock.unlock()
            pump()
        }
    }
}
