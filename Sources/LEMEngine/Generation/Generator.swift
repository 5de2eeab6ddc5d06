import Dispatch
import Foundation

/// A cooperative cancellation flag shared between a running generation and its owner.
public final class GenerationHandle: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false

    /// Creates a handle that is not cancelled.
    public init() {}

    /// Asks the run to stop; it finishes with `.cancelled` before its next token.
    public func cancel() {
        lock.lock()
        cancelled = true
        lock.unlock()
    }

    /// Whether `cancel()` has been called.
    public var isCancelled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return cancelled
    }
}

/// Runs generations on a background queue and streams their events.
///
/// Each run gets a fresh `KVCache`, prefills the prompt in chunks, then samples one token per
/// forward pass until an EOS id, a stop string, `maxTokens` or cancellation (checked between
/// forward passes). Events arrive on the generator's queue in order.
public final class Generator: Sendable {
    /// The model generating.
    public let model: any LanguageModel
    /// Makes a fresh text decoder per run; nil reports empty text for every token.
    public let makeDecoder: (@Sendable () -> any StreamingTextDecoder)?
    private let queue: DispatchQueue

    /// Creates a generator for `model`, decoding text with decoders from `makeDecoder`.
    public init(model: any LanguageModel, makeDecoder: (@Sendable () -> any StreamingTextDecoder)? = nil) {
        self.model = model
        self.makeDecoder = makeDecoder
        queue = DispatchQueue(label: "lem.generator", qos: .userInitiated)
    }

    /// Starts a run in the background and returns its cancellation handle.
    @discardableResult
    public func start(
        _ request: GenerationRequest, handle: GenerationHandle = GenerationHandle(),
        onEvent: @escaping @Sendable (GenerationEvent) -> Void
    ) -> GenerationHandle {
        queue.async { [self] in
            _ = run(request, handle: handle, onEvent: onEvent)
        }
        return handle
    }

    /// Starts a run in the background and returns its events as an `AsyncStream`; ending the
    /// stream's iteration early cancels the run.
    public func stream(_ request: GenerationRequest) -> (events: AsyncStream<GenerationEvent>, handle: GenerationHandle) {
        let (events, continuation) = AsyncStream.makeStream(of: GenerationEvent.self)
        let handle = start(request) { event in
            continuation.yield(event)
            switch event {
            case .finished, .failed: continuation.finish()
            default: break
            }
        }
        continuation.onTermination = { _ in handle.cancel() }
        return (events, handle)
    }

    /// Runs a generation on the calling thread, reporting events through `onEvent`; returns the
    /// stats, or nil when it failed (the error went to `onEvent` as `.failed`).
    @discardableResult
    public func run(
        _ request: GenerationRequest, handle: GenerationHandle = GenerationHandle(),
        onEvent: (GenerationEvent) -> Void
    ) -> GenerationStats? {
        do {
            let stats = try generate(request, handle: handle, onEvent: onEvent)
            onEvent(.finished(stats))
            return stats
        } catch {
            onEvent(.failed(error))
            return nil
        }
    }

    private func generate(
        _ request: GenerationRequest, handle: GenerationHandle, onEvent: (GenerationEvent) -> Void
    ) throws -> GenerationStats {
        guard !request.promptIds.isEmpty else { throw GenerationError.emptyPrompt }
        if let message = request.sampling.validationError() { throw GenerationError.badParameter(message) }
        let cache = model.makeCache()
        var sampler = Sampler(settings: request.sampling)
        var decoder = makeDecoder?()
        var matcher = StopStringMatcher(stopStrings: request.stopStrings)
        var history = request.promptIds
        var stats = GenerationStats(
            promptTokens: request.promptIds.count, generatedTokens: 0, promptSeconds: 0, generationSeconds: 0,
            stopReason: .maxTokens)

        // Prefill in chunks so cancellation stays prompt on long prompts.
        let promptStart = DispatchTime.now()
        var logits: [Float] = []
        var offset = 0
        let chunk = max(1, request.prefillChunk)
        while offset < request.promptIds.count {
            if handle.isCancelled {
                stats.stopReason = .cancelled
                return stats
            }
            let end = min(offset + chunk, request.promptIds.count)
            logits = try model.forward(tokens: Array(request.promptIds[offset ..< end]), cache: cache, logits: .last)
            offset = end
        }
        stats.promptSeconds = seconds(since: promptStart)
        onEvent(.promptProcessed(tokens: request.promptIds.count, seconds: stats.promptSeconds))

        var input = [0]  // (1) reused: a decode step allocates no token array
        let generationStart = DispatchTime.now()
        while stats.generatedTokens < request.maxTokens {
            if handle.isCancelled {
                stats.stopReason = .cancelled
                break
            }
            let id = sampler.sample(logits: logits, history: history)
            history.append(id)
            stats.generatedTokens += 1
            let isEOS = request.stopTokenIds.contains(id)
            let isLast = isEOS || stats.generatedTokens == request.maxTokens
            // The EOS token's own text is not part of the output.
            var piece = isEOS ? "" : (decoder?.push(id) ?? "")
            if isLast { piece += decoder?.finish() ?? "" }
            var (text, stop) = matcher.push(piece)
            if isLast && stop == nil { text += matcher.finish() }
            onEvent(.token(id: id, text: text))
            if isEOS {
                stats.stopReason = .endOfSequence(id: id)
                break
            }
            if let stop {
                stats.stopReason = .stopString(stop)
                break
            }
            if isLast || handle.isCancelled {
                if !isLast { stats.stopReason = .cancelled }
                break
            }
            input[0] = id
            let step = try model.forwardInPlace(tokens: input, cache: cache, logits: .last)
            if step.count == logits.count {
                logits.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: step.baseAddress!, count: step.count) }
            } else {
                logits = Array(step)
            }
        }
        stats.generationSeconds = seconds(since: generationStart)
        return stats
    }

    private func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}
