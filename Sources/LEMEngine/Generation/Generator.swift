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
/// A run starts from the longest prefix of its prompt the prefix cache can restore (when the
/// generator has one and the request allows it), else from an empty `KVCache`; it prefills the
/// rest in chunks, then samples one token per forward pass until an EOS id, a stop string,
/// `maxTokens` or cancellation (checked between forward passes), and leaves a snapshot of what it
/// computed in the cache for the next run. Events arrive on the generator's queue in order.
public final class Generator: Sendable {
    /// The model generating.
    public let model: any LanguageModel
    /// Makes a fresh text decoder per run; nil reports empty text for every token.
    public let makeDecoder: (@Sendable () -> any StreamingTextDecoder)?
    /// Where runs find and leave computed prefixes, nil for none.
    public let prefixCache: PrefixCache?
    /// This model's entries in `prefixCache`.
    public let prefixScope: PrefixCache.Scope?
    private let queue: DispatchQueue

    /// Creates a generator for `model`, decoding text with decoders from `makeDecoder` and
    /// reusing prefixes through `prefixCache` under `scope` (both or neither).
    public init(
        model: any LanguageModel, makeDecoder: (@Sendable () -> any StreamingTextDecoder)? = nil,
        prefixCache: PrefixCache? = nil, scope: PrefixCache.Scope? = nil
    ) {
        self.model = model
        self.makeDecoder = makeDecoder
        self.prefixCache = scope == nil ? nil : prefixCache
        prefixScope = prefixCache == nil ? nil : scope
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
    public func stream(_ request: GenerationRequest) -> (events: AsyncStream<GenerationEvent>, handle: GenerationHandle)
    {
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
            var state = RunState()
            let stats = try generate(request, handle: handle, state: &state, onEvent: onEvent)
            onEvent(.finished(stats))
            // After the event, so the copy does not delay the answer; the next run on this queue
            // sees the entry.
            keep(state)
            return stats
        } catch {
            onEvent(.failed(error))
            return nil
        }
    }

    /// What a run computed, for the prefix cache.
    private struct RunState {
        var cache: KVCache?
        /// The tokens `cache` holds, in order.
        var fed: [Int] = []
        /// The state at the end of the prompt, taken before the first decode step: `keep`
        /// recomputes the sampled tokens from it as a prefill would.
        var promptEnd: KVSnapshot?
        var prefillChunk = 128
        var keepAnswer = true
        /// Prompt tokens restored from the cache.
        var restored = 0
    }

    /// Where a prefill chunk starting at `offset` ends: at most `chunk` tokens, at `stop` when the
    /// chunk would cross it, and never leaving a lone last token — a one-token forward is a decode
    /// step, which with 8-bit activations computes differently from a prefill, so a prompt's
    /// state would depend on where it was split.
    static func chunkEnd(offset: Int, count: Int, chunk: Int, stop: Int? = nil) -> Int {
        var end = min(offset + chunk, count)
        if let stop, offset < stop { end = min(end, stop) }
        if count - end == 1, end - offset >= 3 { end -= 1 }
        return end
    }

    private func generate(
        _ request: GenerationRequest, handle: GenerationHandle, state: inout RunState,
        onEvent: (GenerationEvent) -> Void
    ) throws -> GenerationStats {
        guard !request.promptIds.isEmpty else { throw GenerationError.emptyPrompt }
        if let message = request.sampling.validationError() { throw GenerationError.badParameter(message) }
        var prompt = request.promptIds
        var cache = model.makeCache()
        var offset = 0
        var branch: Int?  // a prefix other prompts share: snapshot it when the prefill reaches it
        var reuse = request.reusePrefix
        if let start = request.startingState {
            guard start.layers.count == cache.layers.count, start.kvDim == cache.layers.first?.kvDim ?? 0,
                start.canRestore(length: start.count)
            else { throw GenerationError.badParameter("the starting state is shaped for another model") }
            cache = start.restore(length: start.count, config: model.config)
            prompt = start.tokens + prompt
            offset = start.count
            reuse = reuse && !start.tokens.contains(-1)
        } else if request.reusePrefix, let prefixCache, let prefixScope {
            // The last two prompt tokens are always computed: the last one's logits start the
            // sampling, and two make a prefill, never a decode step (`chunkEnd`).
            let match = prefixCache.lookup(prompt, scope: prefixScope, limit: max(0, prompt.count - 2))
            if let snapshot = match.snapshot {
                cache = snapshot.restore(length: match.length, config: model.config)
                offset = match.length
            }
            if match.shared >= offset + 2 { branch = match.shared }
        }
        state.cache = reuse ? cache : nil
        state.prefillChunk = max(2, request.prefillChunk)
        state.keepAnswer = request.keepAnswer
        state.restored = offset
        state.fed = Array(prompt[..<offset])
        var sampler = Sampler(settings: request.sampling)
        var decoder = makeDecoder?()
        var matcher = StopStringMatcher(stopStrings: request.stopStrings)
        var history = prompt.filter { $0 >= 0 }  // a starting state's unknown tokens are left out
        var stats = GenerationStats(
            promptTokens: prompt.count, generatedTokens: 0, promptSeconds: 0, generationSeconds: 0,
            stopReason: .maxTokens, reusedTokens: offset)

        // Prefill in chunks so cancellation stays prompt on long prompts.
        let promptStart = DispatchTime.now()
        var logits: [Float] = []
        let chunk = max(1, request.prefillChunk)
        while offset < prompt.count {
            if handle.isCancelled {
                stats.stopReason = .cancelled
                return stats
            }
            let end = Self.chunkEnd(offset: offset, count: prompt.count, chunk: chunk, stop: branch)
            logits = try model.forward(tokens: Array(prompt[offset..<end]), cache: cache, logits: .last)
            state.fed += prompt[offset..<end]
            offset = end
            if offset == branch, let prefixCache, let prefixScope {
                prefixCache.insert(KVSnapshot(cache: cache, tokens: state.fed), scope: prefixScope)
            }
        }
        stats.promptSeconds = seconds(since: promptStart)
        onEvent(.promptProcessed(tokens: prompt.count, seconds: stats.promptSeconds))

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
            if state.cache != nil, state.promptEnd == nil {
                state.promptEnd = KVSnapshot(cache: cache, tokens: state.fed)
            }
            input[0] = id
            let step = try model.forwardInPlace(tokens: input, cache: cache, logits: .last)
            state.fed.append(id)
            if step.count == logits.count {
                logits.withUnsafeMutableBufferPointer {
                    $0.baseAddress!.update(from: step.baseAddress!, count: step.count)
                }
            } else {
                logits = Array(step)
            }
        }
        stats.generationSeconds = seconds(since: generationStart)
        return stats
    }

    /// Leaves what a run computed in the prefix cache.
    ///
    /// A decode step's keys and values differ from what a prefill of the same tokens computes (by
    /// the 8-bit activation rounding, ~0.1 in the logits; in f32 by the order of the sums,
    /// ~1e-5), so the sampled tokens are recomputed from the prompt's end as one prefill before
    /// they are kept: a later prompt that repeats them then continues exactly as its fresh prefill
    /// would. This runs after the answer, off its critical path. Only the prompt's end is kept when
    /// the request does not keep its answer, or the prompt's end cannot be restored where needed.
    private func keep(_ state: RunState) {
        guard let prefixCache, let prefixScope, let cache = state.cache, cache.count == state.fed.count,
            !state.fed.isEmpty
        else { return }
        // Independent prompts: a start they share is already kept (the entry restored from, or the
        // snapshot where they diverged); keeping each whole prompt would fill the cache with
        // states no later prompt restores. Only a prompt that found nothing is kept, in case
        // later ones share its start.
        if !state.keepAnswer, state.restored > 0 { return }
        guard let promptEnd = state.promptEnd, state.fed.count > promptEnd.count else {
            prefixCache.insert(KVSnapshot(cache: cache, tokens: state.fed), scope: prefixScope)
            return
        }
        prefixCache.insert(promptEnd, scope: prefixScope)
        guard state.keepAnswer else { return }
        // At least two tokens per forward, so the recomputation is a prefill.
        let start = min(promptEnd.count, state.fed.count - 2)
        guard start >= 0, promptEnd.canRestore(length: start) else { return }
        let rebuilt = promptEnd.restore(length: start, config: model.config)
        var offset = start
        do {
            while offset < state.fed.count {
                let end = Self.chunkEnd(offset: offset, count: state.fed.count, chunk: state.prefillChunk)
                _ = try model.forwardInPlace(tokens: Array(state.fed[offset..<end]), cache: rebuilt, logits: .last)
                offset = end
            }
        } catch {
            return
        }
        prefixCache.insert(KVSnapshot(cache: rebuilt, tokens: state.fed), scope: prefixScope)
    }

    private func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}
