import Foundation
import GRDB

/// The results database: models, benchmark items, runs, responses and scores in one SQLite file.
///
/// The file is opened in WAL mode through a `DatabasePool`, so readers (the TUI) see committed
/// rows while one writer (a running benchmark, an import, a scoring pass) appends; every write is
/// its own transaction, so a killed process leaves each committed row intact.
public final class ResultStore: Sendable {
    /// The underlying pool; exposed for tests and advanced queries.
    public let pool: DatabasePool
    /// The database file.
    public let url: URL

    /// Opens (creating if needed) the database at `url` and migrates it to the current schema.
    ///
    /// A writer waits up to `busyTimeout` seconds for another process's lock before failing.
    /// Failures are `StoreError`s naming the file.
    public init(url: URL, busyTimeout: Double = 10) throws {
        do {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw StoreError(
                path: url.path, kind: .cannotOpen,
                detail: "cannot create its folder: \((error as NSError).localizedDescription)")
        }
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(busyTimeout)
        self.url = url
        do {
            // One store opens and migrates at a time (threads and processes alike): SQLite answers
            // a second connection switching a new file to WAL with "database is locked" at once,
            // without waiting, and two stores would both apply the migrations. The others then
            // find a WAL file with nothing left to do.
            pool = try RunLock.withSchemaLock(database: url) {
                let pool = try DatabasePool(path: url.path, configuration: config)
                if try !pool.read({ try Self.migrator.hasCompletedMigrations($0) }) { try Self.migrator.migrate(pool) }
                return pool
            }
        } catch {
            throw StoreError.wrapping(error, path: url.path)
        }
    }

    /// Runs `body` in a read transaction; database failures become `StoreError`s naming the file.
    public func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.read(body) } catch { throw StoreError.wrapping(error, path: url.path) }
    }

    /// Runs `body` in a write transaction (committed when it returns); database failures become
    /// `StoreError`s naming the file.
    public func write<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.write(body) } catch { throw StoreError.wrapping(error, path: url.path) }
    }

    /// The schema, one migration per change; existing files are upgraded in place.
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE model (
                        id INTEGER PRIMARY KEY,
                        name TEXT NOT NULL UNIQUE,
                        base TEXT,
                        adapter TEXT,
                        notes TEXT,
                        created_at REAL NOT NULL
                    );
                    CREATE TABLE item (
                        id INTEGER PRIMARY KEY,
                        benchmark TEXT NOT NULL,
                        key TEXT NOT NULL,
                        prompt TEXT NOT NULL,
                        domain TEXT,
                        reference TEXT NOT NULL DEFAULT '{}',
                        UNIQUE (benchmark, key)
                    );
                    CREATE TABLE run (
                        id INTEGER PRIMARY KEY,
                        model_id INTEGER NOT NULL REFERENCES model(id),
                        benchmark TEXT NOT NULL,
                        adapter TEXT,
                        sampling TEXT NOT NULL DEFAULT '{}',
                        kernel_mode TEXT NOT NULL DEFAULT 'none',
                        origin TEXT NOT NULL,
                        status TEXT NOT NULL,
                        started_at REAL NOT NULL,
                        finished_at REAL
                    );
                    CREATE INDEX run_model_bench ON run(model_id, benchmark);
                    CREATE TABLE response (
                        id INTEGER PRIMARY KEY,
                        run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                        item_id INTEGER NOT NULL REFERENCES item(id),
                        text TEXT NOT NULL,
                        tokens INTEGER,
                        seconds REAL,
                        created_at REAL NOT NULL,
                        UNIQUE (run_id, item_id)
                    );
                    CREATE TABLE score (
                        id INTEGER PRIMARY KEY,
                        response_id INTEGER NOT NULL REFERENCES response(id) ON DELETE CASCADE,
                        scorer TEXT NOT NULL,
                        scorer_version TEXT NOT NULL,
                        dimension TEXT NOT NULL,
                        value REAL,
                        status TEXT NOT NULL,
                        reasoning TEXT,
                        raw TEXT,
                        created_at REAL NOT NULL,
                        UNIQUE (response_id, scorer, dimension)
                    );
                    CREATE INDEX score_scorer ON score(scorer, dimension);
                    """)
        }
        m.registerMigration("v2") { db in
            // Which kernel text a run used (a fingerprint), part of its identity for resuming.
            try db.execute(sql: "ALTER TABLE run ADD COLUMN kernel TEXT")
        }
        m.registerMigration("run-engine") { db in
            // The remote engine that answered a run (nil: the local engine), part of its identity.
            try db.execute(sql: "ALTER TABLE run ADD COLUMN engine TEXT")
        }
        ChatSessionStore.registerMigrations(&m)
        m.registerMigration("v3-gsm8k-scores-on-gsm8k-only") { db in
            // Scoring passes once wrote GSM8K exact-match scores for every benchmark's answers
            // (bogus "accuracy" columns for TruthfulQA, Do Not Answer, Toxigen): drop them.
            try db.execute(
                sql: """
                    DELETE FROM score
                    WHERE scorer IN ('gsm8k-lem', 'gsm8k-lmeval-strict', 'gsm8k-lmeval-flexible')
                      AND response_id IN (SELECT response.id FROM response JOIN run ON run.id = response.run_id
                                          WHERE run.benchmark != 'gsm8k')
                    """)
        }
        m.registerMigration("v3-judge-reply") { db in
            // A judge's raw reply, kept once per response and scorer (it was copied into every
            // dimension's `score.raw`). `score.raw` stays for an imported value that is not a number.
            try db.execute(
                sql: """
                    CREATE TABLE judge_reply (
                        response_id INTEGER NOT NULL REFERENCES response(id) ON DELETE CASCADE,
                        scorer TEXT NOT NULL,
                        text TEXT NOT NULL,
                        created_at REAL NOT NULL,
                        PRIMARY KEY (response_id, scorer)
                    );
                    INSERT INTO judge_reply (response_id, scorer, text, created_at)
                        SELECT response_id, scorer, raw, MAX(created_at) FROM score
                        WHERE scorer = 'judge' AND raw IS NOT NULL GROUP BY response_id, scorer;
                    UPDATE score SET raw = NULL WHERE scorer = 'judge' AND raw IS NOT NULL;
                    """)
        }
        registerConsensusMigrations(&m)
        return m
    }

    /// Returns the id of the model named `name`, creating it if absent.
    public func modelID(named name: String, in db: Database) throws -> Int64 {
        if let id = try Int64.fetchOne(db, sql: "SELECT id FROM model WHERE name = ?", arguments: [name]) {
            return id
        }
        try db.execute(
            sql: "INSERT INTO model (name, created_at) VALUES (?, ?)",
            arguments: [name, Date().timeIntervalSince1970])
        return db.lastInsertedRowID
    }

    /// Inserts or updates a benchmark item and returns its id.
    @discardableResult
    public func upsertItem(_ item: BenchItem, in db: Database) throws -> Int64 {
        try db.execute(
            sql: """
                INSERT INTO item (benchmark, key, prompt, domain, reference) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (benchmark, key) DO UPDATE SET
                    prompt = excluded.prompt, domain = excluded.domain, reference = excluded.reference
                """,
            arguments: [item.benchmark, item.key, item.prompt, item.domain, item.referenceJSON])
        return try Int64.fetchOne(
            db, sql: "SELECT id FROM item WHERE benchmark = ? AND key = ?",
            arguments: [item.benchmark, item.key])!
    }

    /// Stores one score, replacing an earlier score by the same scorer on the same dimension.
    public func putScore(
        responseID: Int64, scorer: String, version: String, score: StoredScore,
        in db: Database
    ) throws {
        try db.execute(
            sql: """
                INSERT INTO score (response_id, scorer, scorer_version, dimension, value, status,
                                   reasoning, raw, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (response_id, scorer, dimension) DO UPDATE SET
                    scorer_version = excluded.scorer_version, value = excluded.value,
                    status = excluded.status, reasoning = excluded.reasoning, raw = excluded.raw,
                    created_at = excluded.created_at
                """,
            arguments: [
                responseID, scorer, version, score.dimension, score.value, score.status.rawValue,
                score.reasoning, score.raw, Date().timeIntervalSince1970
            ])
    }

    /// All benchmark names that have items or runs, sorted.
    public func benchmarks() throws -> [String] {
        try read { db in
            try String.fetchAll(
                db, sql: "SELECT benchmark FROM item UNION SELECT benchmark FROM run ORDER BY 1")
        }
    }

    /// All model names, in the order they were first stored.
    public func models() throws -> [String] {
        try read { db in try String.fetchAll(db, sql: "SELECT name FROM model ORDER BY id") }
    }
}
