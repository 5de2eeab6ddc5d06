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
/// The plug-in point for batched decode: `SequentialLane` (width 1) runs the engine's one-at-a-time
/// `Generator`; a lane over the engine's batched decode would report a larger width and decode
/// its jobs' steps together, with no change to the scheduler or the HTTP side.
public protocol DecodeLane: Sendable {
    /// The most jobs `run` takes at once.
    var width: Int { get }
    /// Runs `jobs` (all on the same model) to completion on the calling thread.
    func run(_ jobs: [EngineJob])
}

/// The engine as it is today: one generation at a time, each job to its end.
public struct SequentialLane: DecodeLane {
    public var width: Int { 1 }

    /// A lane over the engine's single-sequence generator.
    public init() {}

    public func run(_ jobs: [EngineJob]) {
        for job in jobs { Self.run(job) }
    }

    /// Generates (unless `maxTokens` is 0), scores when asked, then reports the end.
    static func run(_ job: EngineJob) {
        let request = job.request
        var generated: [Int] = []
        var stats = GenerationStats(
            promptTokens: request.promptIds.count, generatedTokens: 0, promptSeconds: 0, generationSeconds: 0,
            stopReason: .maxTokens)
        if job.handle.isCancelled {
            stats.stopReason = .cancelled
            job.emit(.finished(stats))
            return
        }
        if request.maxTokens > 0 {
            var failure: String?
            var finished: GenerationStats?
            job.model.generator.run(request, handle: job.handle) { event in
                switch event {
                case .token(let id, let text):
                    generated.append(id)
                    job.emit(.token(id: id, text: text))
                case .finished(let s): finished = s
                case .failed(let error): failure = "\(error)"
                case .promptProcessed: break
                }
            }
            if let failure { return job.emit(.failed(failure)) }
            if let finished { stats = finished }
        } else if let message = request.sampling.validationError() {
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
