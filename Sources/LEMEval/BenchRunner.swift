import Foundation
import LEMCore
import LEMScoring
import LEMStore

/// The engine side of a benchmark run: turns chat messages into a response. The local engine
/// implements this; tests use a scripted one.
public protocol ResponseGenerator: Sendable {
    /// Generates one response to `messages` with `sampling`.
    func generate(messages: [ChatMessage], sampling: SamplingSettings) async throws -> GeneratedResponse
}

/// Progress of a benchmark run.
public enum BenchRunEvent: Sendable, Equatable {
    /// The run (new or resumed) has `total` items, `done` of them already answered.
    case started(runID: Int64, total: Int, done: Int, resumed: Bool)
    /// One item was answered and committed.
    case response(runID: Int64, item: String, done: Int, total: Int, tokens: Int?, seconds: Double?)
    /// The run ended with this status (`complete`, `interrupted`, `failed`).
    case finished(runID: Int64, status: String)
}

/// Drives a `ResponseGenerator` over a benchmark's items and stores each response as it arrives.
///
/// Each response is committed on its own, so a killed run keeps everything answered so far; the
/// run row stays `running` (or becomes `interrupted`/`failed`) and the next `run` with the same
/// spec resumes it, asking only for the items still missing. A runner claims its run
/// (`ResultStore.claimRun`) for as long as it answers, so a second runner of the same run —
/// another `lem bench run`, or the Bench panel — refuses instead of answering everything again.
public struct BenchRunner: Sendable {
    let store: ResultStore
    let generator: any ResponseGenerator
    let kernel: EthicsKernel?
    let concurrency: Int

    /// Creates a runner; `kernel` is required for the `system` and `sandwich` modes. Up to
    /// `concurrency` items are asked at once (a remote server serves several; the local engine one).
    public init(store: ResultStore, generator: any ResponseGenerator, kernel: EthicsKernel? = nil, concurrency: Int = 1)
    {
        self.store = store
        self.generator = generator
        self.kernel = kernel
        self.concurrency = max(1, concurrency)
    }

    /// Throws now when `spec`'s run is being answered by another runner, so that a caller can
    /// refuse before loading a model; `run` checks again when it claims the run.
    public static func checkUnclaimed(_ spec: RunSpec, store: ResultStore) throws {
        guard let runID = try store.existingRun(spec) else { return }
        guard let claim = try store.claimRun(runID) else { throw claimed(runID, spec, store) }
        claim.release()
    }

    static func claimed(_ runID: Int64, _ spec: RunSpec, _ store: ResultStore) -> LocatedError {
        LocatedError(
            store.url.path,
            "run \(runID) (\(spec.model) on \(spec.benchmark)) is being answered by another "
                + "process; wait for it to finish (or stop it), then run the same command again to resume")
    }

    /// Runs (or resumes) `spec` over the benchmark's first `limit` items in key order (all when
    /// nil); returns the run id. Cancellation marks the run `interrupted`.
    ///
    /// Each item's messages come from `BenchPrompt.messages` (the benchmark's instruction folded
    /// into the user turn, the kernel placed by the spec's mode).
    @discardableResult
    public func run(
        _ spec: RunSpec, limit: Int? = nil,
        progress: @escaping @Sendable (BenchRunEvent) -> Void = { _ in }
    ) async throws -> Int64 {
        if spec.kernelMode != .none, kernel == nil {
            throw LocatedError(
                "run \(spec.model)/\(spec.benchmark)",
                "kernel mode `\(spec.kernelMode.rawValue)` needs the kernel files")
        }
        let all = try store.itemCount(benchmark: spec.benchmark)
        guard all > 0 else {
            throw LocatedError("benchmark `\(spec.benchmark)`", "has no items; import its questions first")
        }
        let total = min(all, max(0, limit ?? all))
        let (runID, resumed) = try store.openRun(spec)
        // One runner per run: a second `lem bench run` of the same command would otherwise answer
        // every item again beside the first.
        guard let claim = try store.claimRun(runID) else { throw Self.claimed(runID, spec, store) }
        defer { claim.release() }
        let pending = try store.pendingItems(runID: runID, benchmark: spec.benchmark, limit: total)
        var done = total - pending.count
        progress(.started(runID: runID, total: total, done: done, resumed: resumed))
        do {
            // Up to `concurrency` items in flight; each answer is committed as it arrives.
            try await withThrowingTaskGroup(of: (PendingItem, GeneratedResponse).self) { group in
                var next = 0
                func launch() {
                    let item = pending[next]
                    next += 1
                    let messages = BenchPrompt.messages(
                        prompt: item.prompt, benchmark: spec.benchmark, mode: spec.kernelMode,
                        kernel: spec.kernelMode == .none ? nil : kernel)
                    group.addTask {
                        try Task.checkCancellation()
                        return (item, try await generator.generate(messages: messages, sampling: spec.sampling))
                    }
                }
                while next < min(concurrency, pending.count) { launch() }
                while let (item, response) = try await group.next() {
                    try store.recordResponse(runID: runID, itemID: item.id, response)
                    done += 1
                    progress(
                        .response(
                            runID: runID, item: item.key, done: done, total: total, tokens: response.tokens,
                            seconds: response.seconds))
                    if next < pending.count {
                        try Task.checkCancellation()
                        launch()
                    }
                }
            }
        } catch is CancellationError {
            try store.setRunStatus(runID, "interrupted")
            progress(.finished(runID: runID, status: "interrupted"))
            throw CancellationError()
        } catch {
            try store.setRunStatus(runID, "failed")
            progress(.finished(runID: runID, status: "failed"))
            throw error
        }
        try store.setRunStatus(runID, "complete")
        progress(.finished(runID: runID, status: "complete"))
        return runID
    }
}
