import Foundation
import LEMEngine

/// One request's work for the engine: a generation on one served model, optionally followed by
/// scoring the prompt and the generated tokens (`logprobs`).
public final class EngineJob: Sendable {
    /// The model (base or adapter) answering.
    public let model: LoadedModel
    /// The generation; `maxTokens == 0` generates nothing (prompt scoring only).
    public let request: GenerationRequest
    /// Alternatives per position when log-probabilities are asked for; nil: none.
    public let logprobsTop: Int?
    /// Cancels the job, queued or running.
    public let handle = GenerationHandle()
    /// Where the job's events go, in order; called on the engine's queue.
    let emit: @Sendable (JobEvent) -> Void

    /// A job reporting to `emit`.
    public init(
        model: LoadedModel, request: GenerationRequest, logprobsTop: Int?, emit: @escaping @Sendable (JobEvent) -> Void
    ) {
        self.model = model
        self.request = request
        self.logprobsTop = logprobsTop
        self.emit = emit
    }
}

/// What a job reports: generation events as the engine sends them, then (with logprobs) the
/// scored positions of prompt + completion, then exactly one `.finished` or `.failed`.
public enum JobEvent: Sendable {
    /// A sampled token and the text it released.
    case token(id: Int, text: String)
    /// `log p` of every token after the first of prompt + generated ids.
    case logprobs([SequenceScorer.Position])
    /// The job ended (also when cancelled: `stats.stopReason == .cancelled`).
    case finished(GenerationStats)
    /// The engine failed (bad token id, context overflow…).
    case failed(String)
}

/// Runs jobs on the engine. The scheduler hands a lane up to `width` jobs of one model at a time.
///
/// `SequentialLane` (width 1) runs one job to its end after another; `BatchedLane` starts its
/// jobs together so the model's `Generator` decodes their steps in one forward pass each.
public protocol DecodeLane: Sendable {
    /// The most jobs `run` takes at once.
    var width: Int { get }
    /// Runs `jobs` (all on the same model) to completion on the calling thread.
    func run(_ jobs: [EngineJob])
}

/// One job at a time, each to its end.
public struct SequentialLane: DecodeLane {
    public var width: Int { 1 }

    /// A lane over the engine's single-sequence generator.
    public init() {}

    public func run(_ jobs: [EngineJob]) {
        for job in jobs {
            guard let outcome = JobOutcome.begin(job) else { continue }
            if job.request.maxTokens > 0 {
                job.model.generator.run(job.request, handle: job.handle) { outcome.record($0, job: job) }
            }
            outcome.finish(job)
        }
    }
}

/// Up to `width` jobs decoded together: their generations start at once on the model's
/// `Generator` (whose batch is raised to `width`), each job's tokens stream as they come, and
/// each finishes (log-probabilities scored when asked) once all have generated. A batched step
/// computes each sequence as it alone would, so answers equal `SequentialLane`'s.
public struct BatchedLane: DecodeLane {
    public let width: Int

    /// A lane decoding up to `width` jobs together.
    public init(width: Int) { self.width = max(1, width) }

    public func run(_ jobs: [EngineJob]) {
        let group = DispatchGroup()
        var started: [(EngineJob, JobOutcome)] = []
        for job in jobs {
            guard let outcome = JobOutcome.begin(job) else { continue }
            started.append((job, outcome))
            guard job.request.maxTokens > 0 else { continue }
            let generator = job.model.generator
            if generator.maxBatch < width { generator.maxBatch = width }
            group.enter()
            generator.start(job.request, handle: job.handle) { event in
                outcome.record(event, job: job)
                switch event {
                case .finished, .failed: group.leave()
                default: break
                }
            }
        }
        group.wait()
        for (job, outcome) in started { outcome.finish(job) }
    }
}

/// What one job's generation produced, gathered from its events (on the engine's queue) and
/// read when the job finishes.
final class JobOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var generated: [Int] = []
    private var failure: String?
    private var stats: GenerationStats

    private init(_ request: GenerationRequest) {
        stats = GenerationStats(
            promptTokens: request.promptIds.count, generatedTokens: 0, promptSeconds: 0, generationSeconds: 0,
            stopReason: .maxTokens)
    }

    /// The outcome of a job about to run, or nil when the job was cancelled before it started
    /// (its end is reported here).
    static func begin(_ job: EngineJob) -> JobOutcome? {
        let outcome = JobOutcome(job.request)
        if job.handle.isCancelled {
            outcome.stats.stopReason = .cancelled
            job.emit(.finished(outcome.stats))
            return nil
        }
        return outcome
    }

    /// Records a generation event, forwarding tokens to the job as they come.
    func record(_ event: GenerationEvent, job: EngineJob) {
        switch event {
        case .token(let id, let text):
            lock.lock()
            generated.append(id)
            lock.unlock()
            job.emit(.token(id: id, text: text))
        case .finished(let s):
            lock.lock()
            stats = s
            lock.unlock()
        case .failed(let error):
            lock.lock()
            failure = "\(error)"
            lock.unlock()
        case .promptProcessed: break
        }
    }

    /// Reports the job's end: its failure, or (scoring prompt + completion when log-probabilities
    /// are asked) its stats.
    func finish(_ job: EngineJob) {
        lock.lock()
        var stats = self.stats
        let generated = self.generated
        let failure = self.failure
        lock.unlock()
        let request = job.request
        if let failure { return job.emit(.failed(failure)) }
        if request.maxTokens == 0, let message = request.sampling.validationError() {
            return job.emit(.failed(message))
        }
        if let top = job.logprobsTop, stats.stopReason != .cancelled {
            // The stopping EOS is scored too (not shown in the text): lm-evaluation-harness
            // drops the last echoed position as the generated one.
            let start = DispatchTime.now().uptimeNanoseconds
            do {
                let positions = try SequenceScorer.score(
                    model: job.model.model, ids: request.promptIds + generated, top: top, handle: job.handle)
                if request.maxTokens == 0 {
                    stats.promptSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                }
                job.emit(.logprobs(positions))
            } catch is CancellationError {
                stats.stopReason = .cancelled
            } catch {
                return job.emit(.failed("\(error)"))
            }
        }
        job.emit(.finished(stats))
    }
}
