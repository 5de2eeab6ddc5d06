import Foundation
import GRDB
import LEMScoring

/// What a benchmark run was made with; a run is resumed only by a spec that matches it exactly.
public struct RunSpec: Sendable, Equatable {
    /// The model (variant) name as stored.
    public var model: String
    /// The benchmark whose items are answered.
    public var benchmark: String
    /// LoRA adapter path or name, if any.
    public var adapter: String?
    /// Sampling settings.
    public var sampling: SamplingSettings
    /// How the ethics kernel is placed around each prompt.
    public var kernelMode: KernelMode
    /// Names the kernel text used (e.g. `EthicsKernel.fingerprint`); nil for mode `none`.
    public var kernel: String?

    /// Creates a spec.
    public init(model: String, benchmark: String, adapter: String? = nil, sampling: SamplingSettings = SamplingSettings(),
                kernelMode: KernelMode = .none, kernel: String? = nil) {
        self.model = model
        self.benchmark = benchmark
        self.adapter = adapter
        self.sampling = sampling
        self.kernelMode = kernelMode
        self.kernel = kernelMode == .none ? nil : kernel
    }

    var samplingJSON: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: (try? encoder.encode(sampling)) ?? Data("{}".utf8), as: UTF8.self)
    }
}

/// One generated answer as the engine reports it.
public struct GeneratedResponse: Sendable, Equatable {
    /// The text.
    public var text: String
    /// Generated tokens, if known.
    public var tokens: Int?
    /// Wall-clock seconds, if known.
    public var seconds: Double?

    /// Creates a response.
    public init(text: String, tokens: Int? = nil, seconds: Double? = nil) {
        self.text = text
        self.tokens = tokens
        self.seconds = seconds
    }
}

/// The engine side of a benchmark run: turns chat messages into a response. The local engine
/// implements this; tests use a scripted one.
public protocol ResponseGenerator: Sendable {
    /// Generates one response to `messages` with `sampling`.
    func generate(messages: [PromptMessage], sampling: SamplingSettings) async throws -> GeneratedResponse
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
/// spec resumes it, asking only for the items still missing.
public struct BenchRunner: Sendable {
    let store: ResultStore
    let generator: any ResponseGenerator
    let kernel: EthicsKernel?

    /// Creates a runner; `kernel` is required for the `system` and `sandwich` modes.
    public init(store: ResultStore, generator: any ResponseGenerator, kernel: EthicsKernel? = nil) {
        self.store = store
        self.generator = generator
        self.kernel = kernel
    }

    /// Runs (or resumes) `spec` over the benchmark's first `limit` items in key order (all when
    /// nil); returns the run id. Cancellation marks the run `interrupted`.
    ///
    /// Each item's messages come from `BenchPrompt.messages` (the benchmark's instruction folded
    /// into the user turn, the kernel placed by the spec's mode).
    @discardableResult
    public func run(_ spec: RunSpec, limit: Int? = nil,
                    progress: @escaping @Sendable (BenchRunEvent) -> Void = { _ in }) async throws -> Int64 {
        if spec.kernelMode != .none, kernel == nil {
            throw StoreError("run \(spec.model)/\(spec.benchmark)", "kernel mode `\(spec.kernelMode.rawValue)` needs the kernel files")
        }
        let all = try store.itemCount(benchmark: spec.benchmark)
        guard all > 0 else { throw StoreError("benchmark `\(spec.benchmark)`", "has no items; import its questions first") }
        let total = min(all, max(0, limit ?? all))
        let (runID, resumed) = try store.openRun(spec)
        let pending = try store.pendingItems(runID: runID, benchmark: spec.benchmark, limit: total)
        var done = total - pending.count
        progress(.started(runID: runID, total: total, done: done, resumed: resumed))
        do {
            for item in pending {
                try Task.checkCancellation()
                let messages = BenchPrompt.messages(prompt: item.prompt, benchmark: spec.benchmark, mode: spec.kernelMode,
                                                    kernel: spec.kernelMode == .none ? nil : kernel)
                let response = try await generator.generate(messages: messages, sampling: spec.sampling)
                try store.recordResponse(runID: runID, itemID: item.id, response)
                done += 1
                progress(.response(runID: runID, item: item.key, done: done, total: total, tokens: response.tokens,
                                   seconds: response.seconds))
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

/// An item still to be answered in a run.
public struct PendingItem: Sendable, Equatable {
    /// Row id of the item.
    public var id: Int64
    /// The item's key.
    public var key: String
    /// Its prompt.
    public var prompt: String
}

extension ResultStore {
    /// The unfinished run matching `spec`, or a new one; returns its id and whether it was resumed.
    public func openRun(_ spec: RunSpec) throws -> (Int64, Bool) {
        try pool.write { db in
            let modelID = try modelID(named: spec.model, in: db)
            if let id = try Int64.fetchOne(db, sql: """
                SELECT id FROM run WHERE model_id = ? AND benchmark = ? AND adapter IS ? AND sampling = ?
                    AND kernel_mode = ? AND kernel IS ? AND origin = 'run'
                ORDER BY id DESC LIMIT 1
                """, arguments: [modelID, spec.benchmark, spec.adapter, spec.samplingJSON, spec.kernelMode.rawValue,
                                 spec.kernel]) {
                try db.execute(sql: "UPDATE run SET status = 'running' WHERE id = ?", arguments: [id])
                return (id, true)
            }
            try db.execute(sql: """
                INSERT INTO run (model_id, benchmark, adapter, sampling, kernel_mode, kernel, origin, status, started_at)
                VALUES (?, ?, ?, ?, ?, ?, 'run', 'running', ?)
                """, arguments: [modelID, spec.benchmark, spec.adapter, spec.samplingJSON, spec.kernelMode.rawValue,
                                 spec.kernel, Date().timeIntervalSince1970])
            return (db.lastInsertedRowID, false)
        }
    }

    /// Items among the first `limit` of `benchmark` (key order; all when nil) without a
    /// response in the run, in key order.
    public func pendingItems(runID: Int64, benchmark: String, limit: Int? = nil) throws -> [PendingItem] {
        try pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, key, prompt FROM (SELECT id, key, prompt FROM item WHERE benchmark = ? ORDER BY key LIMIT ?)
                WHERE id NOT IN (SELECT item_id FROM response WHERE run_id = ?) ORDER BY key
                """, arguments: [benchmark, limit ?? -1, runID]).map { PendingItem(id: $0["id"], key: $0["key"], prompt: $0["prompt"]) }
        }
    }

    /// The number of items in a benchmark.
    public func itemCount(benchmark: String) throws -> Int {
        try pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM item WHERE benchmark = ?", arguments: [benchmark]) ?? 0 }
    }

    /// Commits one response of a run.
    public func recordResponse(runID: Int64, itemID: Int64, _ r: GeneratedResponse) throws {
        try pool.write { db in
            try db.execute(sql: """
                INSERT INTO response (run_id, item_id, text, tokens, seconds, created_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (run_id, item_id) DO UPDATE SET text = excluded.text, tokens = excluded.tokens,
                    seconds = excluded.seconds
                """, arguments: [runID, itemID, r.text, r.tokens, r.seconds, Date().timeIntervalSince1970])
        }
    }

    /// Sets a run's status (`running`, `interrupted`, `failed`, `complete`).
    public func setRunStatus(_ runID: Int64, _ status: String) throws {
        try pool.write { db in
            try db.execute(sql: "UPDATE run SET status = ?, finished_at = ? WHERE id = ?",
                           arguments: [status, status == "running" ? nil : Date().timeIntervalSince1970, runID])
        }
    }
}
