import Dispatch
import Foundation

/// A cooperative cancellation flag shared between a running generation and its owner.
public final class GenerationHandle: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false

    /// Creates a handle that is not cancelled.
    public init() {}

    /// Asks the run to stop; it finishes with `.cancelled` before its next token.
    public func cancel() { lock.withLock { cancelled = true } }

    /// Whether `cancel()` has been called.
    public var isCancelled: Bool { lock.withLock { cancelled } }
}

/// Runs generations on a background queue and streams their events.
///
/// A run starts from the longest prefix of its prompt the prefix cache can restore (when the
/// generator has one and the request allows it), else from an empty `KVCache`; it prefills the
/// rest in chunks, then samples one token per forward pass until an EOS id, a stop string,
/// `maxTokens` or cancellation (checked between forward passes), and leaves a snapshot of what it
/// computed in the cache for the next run. Events arrive on the generator's queue in order.
///
/// Runs started while others decode join them, up to `maxBatch` at once (continuous batching):
/// between decode steps the queue's next requests are prefilled, then every running sequence
/// advances in one forward pass (`LanguageModel.decodeInPlace`). A batched step computes each
/// row as that sequence's own step does, so a run's tokens do not depend on what runs beside it.
public final class Generator: @unchecked Sendable {
    /// The model generating.
    public let model: any LanguageModel
    /// Makes a fresh text decoder per run; nil reports empty text for every token.
    public let makeDecoder: (@Sendable () -> any StreamingTextDecoder)?
    /// Where runs find and leave computed prefixes, nil for none.
    public let prefixCache: PrefixCache?
    /// This model's entries in `prefixCache`.
    public let prefixScope: PrefixCache.Scope?
    private let queue: DispatchQueue
    /// Guards `pending`, `serving` and `batchLimit`.
    private let lock = NSLock()
    /// Started runs not yet admitted to the serving loop.
    private var pending: [Pending] = []
    /// Whether the serving loop is scheduled or running on `queue`.
    private var serving = false
    private var batchLimit = 1

    /// A started run waiting for a slot.
    private struct Pending {
        let request: GenerationRequest
        let handle: GenerationHandle
        let onEvent: (GenerationEvent) -> Void
    }

    /// Creates a generator for `model`, decoding text with decoders from `makeDecoder`, reusing
    /// prefixes through `prefixCache` under `scope` (both or neither) and decoding up to `maxBatch`
    /// started runs together.
    public init(
        model: any LanguageModel, makeDecoder: (@Sendable () -> any StreamingTextDecoder)? = nil,
        prefixCache: PrefixCache? = nil, scope: PrefixCache.Scope? = nil, maxBatch: Int = 1
    ) {
        batchLimit = max(1, maxBatch)
        self.model = model
        self.makeDecoder = makeDecoder
        self.prefixCache = scope == nil ? nil : prefixCache
        prefixScope = prefixCache == nil ? nil : scope
        queue = DispatchQueue(label: "lem.generator", qos: .userInitiated)
    }

    /// The batch a loaded model's generator decodes at most: 8 sequences, where two cores decode
    /// 2.4× the tokens per second of one (docs/PERFORMANCE.md), or 4 per core on larger machines,
    /// at most 32.
    public static var defaultBatch: Int { min(32, max(8, 4 * ProcessInfo.processInfo.activeProcessorCount)) }

    /// The most started runs that decode together (default 1: one after another). Takes effect
    /// at the next admission; runs already decoding finish where they are.
    public var maxBatch: Int {
        get { lock.withLock { batchLimit } }
        set { lock.withLock { batchLimit = max(1, newValue) } }
    }

    /// Starts a run in the background and returns its cancellation handle.
    @discardableResult
    public func start(
        _ request: GenerationRequest, handle: GenerationHandle = GenerationHandle(),
        onEvent: @escaping @Sendable (GenerationEvent) -> Void
    ) -> GenerationHandle {
        lock.lock()
        pending.append(Pending(request: request, handle: handle, onEvent: onEvent))
        let launch = !serving
        serving = true
        lock.unlock()
        if launch { queue.async { [self] in serve() } }
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

    /// The serving loop on `queue`: admits pending runs into free slots (prefilling them), then
    /// advances the running ones by one decode step, until nothing is pending or running. What
    /// ended runs leave for the prefix cache is kept when nothing else is to be done, so keeping
    /// one run's state never holds up the others' tokens.
    private func serve() {
        var jobs: [Job] = []
        var finished: [RunState] = []
        let workspace = Workspace()
        while true {
            lock.lock()
            let admitted = Array(pending.prefix(max(0, batchLimit - jobs.count)))
            pending.removeFirst(admitted.count)
            if admitted.isEmpty && jobs.isEmpty {
                if finished.isEmpty {
                    serving = false
                    lock.unlock()
                    return
                }
                lock.unlock()
                // Idle: keep the newest states first; a request arriving meanwhile waits for one.
                keep(finished.removeLast())
                continue
            }
            lock.unlock()
            let requests = admitted.map(\.request)
            let shared = admitted.count > 1 ? sharedStart(requests, handle: GenerationHandle()) : nil
            for entry in admitted {
                admit(entry.request, shared: shared, handle: entry.handle, into: &jobs, onEvent: entry.onEvent)
            }
            advance(&jobs, workspace: workspace, finished: &finished)
            // Bounded: states past the newest few would only be evicted again.
            let bound = 2 * maxBatch
            if finished.count > bound { finished.removeFirst(finished.count - bound) }
        }
    }

    /// Runs a generation on the calling thread, reporting events through `onEvent`; returns the
    /// stats, or nil when it failed (the error went to `onEvent` as `.failed`).
    @discardableResult
    public func run(
        _ request: GenerationRequest, handle: GenerationHandle = GenerationHandle(),
        onEvent: (GenerationEvent) -> Void
    ) -> GenerationStats? {
        runBatch([request], handle: handle) { onEvent($1) }[0]
    }

    /// Runs several generations together on the calling thread: each prompt is prefilled on its
    /// own (a start they all share is computed once and restored into each), then every unfinished
    /// sequence advances by one token per forward pass (`LanguageModel.decodeInPlace`), each with
    /// its own sampler, stop ids, stop strings and token limit. Events carry the request's index;
    /// each request gets the events `run` would give it, in order, and the same tokens (a batched
    /// decode step computes each row as that sequence's own step does). Returns each request's
    /// stats, nil where it failed. `handle` cancels them all.
    @discardableResult
    public func runBatch(
        _ requests: [GenerationRequest], handle: GenerationHandle = GenerationHandle(),
        onEvent: (Int, GenerationEvent) -> Void
    ) -> [GenerationStats?] {
        var results = [GenerationStats?](repeating: nil, count: requests.count)
        withoutActuallyEscaping(onEvent) { onEvent in
            let shared = requests.count > 1 ? sharedStart(requests, handle: handle) : nil
            var jobs: [Job] = []
            for (i, request) in requests.enumerated() {
                admit(request, shared: shared, handle: handle, into: &jobs) { event in
                    if case .finished(let stats) = event { results[i] = stats }
                    onEvent(i, event)
                }
            }
            let workspace = Workspace()
            var finished: [RunState] = []
            while !jobs.isEmpty { advance(&jobs, workspace: workspace, finished: &finished) }
            for state in finished { keep(state) }
        }
        return results
    }

    /// A running sequence with its handle and where its events go.
    private struct Job {
        var sequence: DecodingSequence
        let handle: GenerationHandle
        let onEvent: (GenerationEvent) -> Void
        /// When its decoding started (after its prefill).
        let started: DispatchTime
    }

    /// Prefills `request` and adds it to `jobs`; a request that cannot start reports `.failed`.
    private func admit(
        _ request: GenerationRequest, shared: KVSnapshot?, handle: GenerationHandle, into jobs: inout [Job],
        onEvent: @escaping (GenerationEvent) -> Void
    ) {
        do {
            let sequence = try prefill(request, shared: shared, handle: handle, onEvent: onEvent)
            jobs.append(Job(sequence: sequence, handle: handle, onEvent: onEvent, started: DispatchTime.now()))
        } catch {
            onEvent(.failed(error))
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

    /// One sequence being generated: its cache, the logits of its last position, what turns
    /// sampled ids into text and a stop, and what goes to the prefix cache at its end.
    private struct DecodingSequence {
        let request: GenerationRequest
        let cache: KVCache
        var logits: [Float]
        var sampler: Sampler
        var decoder: (any StreamingTextDecoder)?
        var matcher: StopStringMatcher
        var history: [Int]
        var stats: GenerationStats
        var state: RunState
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

    /// The longest start all `requests` share, computed once (from the prefix cache where it
    /// helps) for their prefills to restore; nil when they share fewer than 16 tokens, one starts
    /// from a given state, or the start cannot be restored.
    private func sharedStart(_ requests: [GenerationRequest], handle: GenerationHandle) -> KVSnapshot? {
        guard requests.allSatisfy({ $0.startingState == nil && $0.reusePrefix }), var common = requests.first?.promptIds
        else { return nil }
        for request in requests.dropFirst() {
            common = Array(common[..<PrefixCache.commonPrefix(common, request.promptIds, limit: common.count)])
        }
        // Each prompt's last two tokens are computed by its own prefill.
        let length = min(common.count, requests.map { $0.promptIds.count - 2 }.min() ?? 0)
        guard length >= 16 else { return nil }
        var request = requests[0]
        request.promptIds = Array(common[..<length])
        guard let sequence = try? prefill(request, shared: nil, handle: handle, onEvent: { _ in }),
            !handle.isCancelled, sequence.cache.count == length
        else { return nil }
        let snapshot = KVSnapshot(cache: sequence.cache, tokens: request.promptIds)
        guard snapshot.canRestore(length: length) else { return nil }
        if let prefixCache, let prefixScope { prefixCache.insert(snapshot, scope: prefixScope) }
        return snapshot
    }

    /// Validates `request` and computes its prompt: from `shared` or the longest prefix the prefix
    /// cache restores (or the request's starting state), then the rest in chunks (cancellation
    /// checked between them). Reports `.promptProcessed` unless cancelled first.
    private func prefill(
        _ request: GenerationRequest, shared: KVSnapshot?, handle: GenerationHandle,
        onEvent: (GenerationEvent) -> Void
    ) throws -> DecodingSequence {
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
        } else if let shared, request.reusePrefix, shared.count <= prompt.count - 2,
            Array(prompt[..<shared.count]) == shared.tokens
        {
            cache = shared.restore(length: shared.count, config: model.config)
            offset = shared.count
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
        var state = RunState()
        state.cache = reuse ? cache : nil
        state.prefillChunk = max(2, request.prefillChunk)
        state.keepAnswer = request.keepAnswer
        state.restored = offset
        state.fed = Array(prompt[..<offset])
        var sequence = DecodingSequence(
            request: request, cache: cache, logits: [], sampler: Sampler(settings: request.sampling),
            decoder: makeDecoder?(), matcher: StopStringMatcher(stopStrings: request.stopStrings),
            history: prompt.filter { $0 >= 0 },  // a starting state's unknown tokens are left out
            stats: GenerationStats(
                promptTokens: prompt.count, generatedTokens: 0, promptSeconds: 0, generationSeconds: 0,
                stopReason: .maxTokens, reusedTokens: offset),
            state: state)

        // Prefill in chunks so cancellation stays prompt on long prompts.
        let promptStart = DispatchTime.now()
        let chunk = max(1, request.prefillChunk)
        while offset < prompt.count {
            // Cancelled: the decode loop ends it without sampling (`sampleNext`).
            if handle.isCancelled { return sequence }
            let end = Self.chunkEnd(offset: offset, count: prompt.count, chunk: chunk, stop: branch)
            sequence.logits = try model.forward(tokens: Array(prompt[offset..<end]), cache: cache, logits: .last)
            sequence.state.fed += prompt[offset..<end]
            offset = end
            if offset == branch, let prefixCache, let prefixScope {
                prefixCache.insert(KVSnapshot(cache: cache, tokens: sequence.state.fed), scope: prefixScope)
            }
        }
        sequence.stats.promptSeconds = seconds(since: promptStart)
        onEvent(.promptProcessed(tokens: prompt.count, seconds: sequence.stats.promptSeconds))
        return sequence
    }

    /// Samples the next token of `sequence` from its logits and reports it; returns the id to
    /// feed back, or nil when the sequence ended here (EOS, a stop string, its token limit or
    /// cancellation: `stats.stopReason` says which).
    private func sampleNext(
        _ sequence: inout DecodingSequence, handle: GenerationHandle, onEvent: (GenerationEvent) -> Void
    )
        -> Int?
    {
        let request = sequence.request
        if handle.isCancelled || sequence.stats.generatedTokens >= request.maxTokens {
            if handle.isCancelled { sequence.stats.stopReason = .cancelled }
            return nil
        }
        let id = sequence.sampler.sample(logits: sequence.logits, history: sequence.history)
        sequence.history.append(id)
        sequence.stats.generatedTokens += 1
        let isEOS = request.stopTokenIds.contains(id)
        let isLast = isEOS || sequence.stats.generatedTokens == request.maxTokens
        // The EOS token's own text is not part of the output.
        var piece = isEOS ? "" : (sequence.decoder?.push(id) ?? "")
        if isLast { piece += sequence.decoder?.finish() ?? "" }
        var (text, stop) = sequence.matcher.push(piece)
        if isLast && stop == nil { text += sequence.matcher.finish() }
        onEvent(.token(id: id, text: text))
        if isEOS {
            sequence.stats.stopReason = .endOfSequence(id: id)
            return nil
        }
        if let stop {
            sequence.stats.stopReason = .stopString(stop)
            return nil
        }
        if isLast || handle.isCancelled {
            if !isLast { sequence.stats.stopReason = .cancelled }
            return nil
        }
        if sequence.state.cache != nil, sequence.state.promptEnd == nil {
            sequence.state.promptEnd = KVSnapshot(cache: sequence.cache, tokens: sequence.state.fed)
        }
        return id
    }

    /// One step of the running `jobs`: each samples its next token (ending there: reports
    /// `.finished`, adds what it computed to `finished` for the prefix cache and leaves `jobs`), then the rest
    /// advance by that token in one forward pass. One sequence decodes in its own cache's
    /// workspace (the single-token kernels); several share `workspace`.
    private func advance(_ jobs: inout [Job], workspace: Workspace, finished: inout [RunState]) {
        var ids: [Int] = []
        var caches: [KVCache] = []
        var running: [Job] = []
        let limit = model.config.maxPositionEmbeddings
        func end(_ job: Job, failure: (any Error)? = nil) {
            var stats = job.sequence.stats
            stats.generationSeconds = seconds(since: job.started)
            if let failure {
                job.onEvent(.failed(failure))
            } else {
                job.onEvent(.finished(stats))
                finished.append(job.sequence.state)
            }
        }
        for var job in jobs {
            guard let id = sampleNext(&job.sequence, handle: job.handle, onEvent: job.onEvent) else {
                end(job)
                continue
            }
            let cache = job.sequence.cache
            if cache.count + 1 > limit {
                end(job, failure: ModelError.contextFull(needed: cache.count + 1, limit: limit))
                continue
            }
            ids.append(id)
            caches.append(cache)
            running.append(job)
        }
        jobs = running
        guard !ids.isEmpty else { return }
        do {
            let step = try model.decodeInPlace(
                tokens: ids, caches: caches, workspace: ids.count == 1 ? caches[0].workspace : workspace)
            let vocabulary = step.count / ids.count
            for row in jobs.indices {
                jobs[row].sequence.state.fed.append(ids[row])
                let source = step.baseAddress! + row * vocabulary
                if jobs[row].sequence.logits.count == vocabulary {
                    jobs[row].sequence.logits.withUnsafeMutableBufferPointer {
                        $0.baseAddress!.update(from: source, count: vocabulary)
                    }
                } else {
                    jobs[row].sequence.logits = Array(UnsafeBufferPointer(start: source, count: vocabulary))
                }
            }
        } catch {
            for job in jobs { end(job, failure: error) }
            jobs = []
        }
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
