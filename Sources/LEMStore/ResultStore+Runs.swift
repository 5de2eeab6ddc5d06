import Foundation
import GRDB
import LEMCore

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
    /// The remote engine that answered (`openai:<API root> model=<name>`); nil for the local engine.
    public var engine: String?

    /// Creates a spec.
    public init(
        model: String, benchmark: String, adapter: String? = nil, sampling: SamplingSettings = .greedy,
        kernelMode: KernelMode = .none, kernel: String? = nil, engine: String? = nil
    ) {
        self.model = model
        self.benchmark = benchmark
        self.adapter = adapter
        self.sampling = sampling
        self.kernelMode = kernelMode
        self.kernel = kernelMode == .none ? nil : kernel
        self.engine = engine
    }

    /// The sampling settings as stored on the run (sorted keys): part of the run's identity.
    public var samplingJSON: String {
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

/// An item still to be answered in a run.
public struct PendingItem: Sendable, Equatable {
    /// Row id of the item.
    public var id: Int64
    /// The item's key.
    public var key: String
    /// Its prompt.
    public var prompt: String
}

/// One stored answer of a run, with its item.
public struct RunAnswer: Sendable, Equatable {
    /// The response's row id.
    public var responseID: Int64
    /// The item's key.
    public var itemKey: String
    /// The item's prompt as stored (without instruction or kernel).
    public var prompt: String
    /// The answer.
    public var text: String
}

extension ResultStore {
    /// The answers of run `runID`, in item key order.
    public func runAnswers(_ runID: Int64) throws -> [RunAnswer] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT response.id AS id, item.key AS key, item.prompt AS prompt, response.text AS text
                    FROM response JOIN item ON item.id = response.item_id WHERE response.run_id = ? ORDER BY item.key
                    """, arguments: [runID]
            ).map { RunAnswer(responseID: $0["id"], itemKey: $0["key"], prompt: $0["prompt"], text: $0["text"]) }
        }
    }

    /// The latest run made with `spec`, if any (what `openRun` would resume).
    public func existingRun(_ spec: RunSpec) throws -> Int64? {
        try read { db in try existingRun(spec, in: db) }
    }

    private func existingRun(_ spec: RunSpec, in db: Database) throws -> Int64? {
        try Int64.fetchOne(
            db,
            sql: """
                SELECT run.id FROM run JOIN model ON model.id = run.model_id
                WHERE model.name = ? AND run.benchmark = ? AND run.adapter IS ? AND run.sampling = ?
                    AND run.kernel_mode = ? AND run.kernel IS ? AND run.engine IS ? AND run.origin = 'run'
                ORDER BY run.id DESC LIMIT 1
                """,
            arguments: [
                spec.model, spec.benchmark, spec.adapter, spec.samplingJSON, spec.kernelMode.rawValue,
                spec.kernel, spec.engine
            ])
    }

    /// The unfinished run matching `spec`, or a new one; returns its id and whether it was resumed.
    public func openRun(_ spec: RunSpec) throws -> (Int64, Bool) {
        try write { db in
            let modelID = try modelID(named: spec.model, in: db)
            if let id = try existingRun(spec, in: db) {
                try db.execute(sql: "UPDATE run SET status = 'running' WHERE id = ?", arguments: [id])
                return (id, true)
            }
            try db.execute(
                sql: """
                    INSERT INTO run (model_id, benchmark, adapter, sampling, kernel_mode, kernel, engine, origin, status,
                                     started_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, 'run', 'running', ?)
                    """,
                arguments: [
                    modelID, spec.benchmark, spec.adapter, spec.samplingJSON, spec.kernelMode.rawValue,
                    spec.kernel, spec.engine, Date().timeIntervalSince1970
                ])
            return (db.lastInsertedRowID, false)
        }
    }

    /// Items among the first `limit` of `benchmark` (key order; all when nil) without a
    /// response in the run, in key order.
    public func pendingItems(runID: Int64, benchmark: String, limit: Int? = nil) throws -> [PendingItem] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, key, prompt FROM (SELECT id, key, prompt FROM item WHERE benchmark = ? ORDER BY key LIMIT ?)
                    WHERE id NOT IN (SELECT item_id FROM response WHERE run_id = ?) ORDER BY key
                    """, arguments: [benchmark, limit ?? -1, runID]
            ).map { PendingItem(id: $0["id"], key: $0["key"], prompt: $0["prompt"]) }
        }
    }

    /// The number of items in a benchmark.
    public func itemCount(benchmark: String) throws -> Int {
        try read {
            try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM item WHERE benchmark = ?", arguments: [benchmark]) ?? 0
        }
    }

    /// Commits one response of a run.
    public func recordResponse(runID: Int64, itemID: Int64, _ r: GeneratedResponse) throws {
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO response (run_id, item_id, text, tokens, seconds, created_at) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (run_id, item_id) DO UPDATE SET text = excluded.text, tokens = excluded.tokens,
                        seconds = excluded.seconds
                    """, arguments: [runID, itemID, r.text, r.tokens, r.seconds, Date().timeIntervalSince1970])
        }
    }

    /// Sets a run's status (`running`, `interrupted`, `failed`, `complete`).
    public func setRunStatus(_ runID: Int64, _ status: String) throws {
        try write { db in
            try db.execute(
                sql: "UPDATE run SET status = ?, finished_at = ? WHERE id = ?",
                arguments: [status, status == "running" ? nil : Date().timeIntervalSince1970, runID])
        }
    }

    /// A stored run's model name, benchmark and engine; nil when there is no run `runID`.
    public func runSummary(_ runID: Int64) throws -> (model: String, benchmark: String, engine: String?)? {
        try read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT model.name AS model, run.benchmark AS benchmark, run.engine AS engine
                    FROM run JOIN model ON model.id = run.model_id WHERE run.id = ?
                    """, arguments: [runID]
            ).map { ($0["model"], $0["benchmark"], $0["engine"]) }
        }
    }

    /// The row id of `benchmark`'s item `key`, nil when there is none.
    public func itemID(benchmark: String, key: String) throws -> Int64? {
        try read { db in
            try Int64.fetchOne(
                db, sql: "SELECT id FROM item WHERE benchmark = ? AND key = ?", arguments: [benchmark, key])
        }
    }
}
