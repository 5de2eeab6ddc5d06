import Foundation
import GRDB
import LEMCore

/// One message of a stored chat session.
public struct StoredChatMessage: Sendable, Equatable {
    public var role: ChatRole
    public var text: String
    /// How the answer's generation went; nil for prompts and answers saved without statistics.
    public var stats: TurnStats?
    public var cancelled: Bool

    /// Creates a message.
    public init(role: ChatRole, text: String, stats: TurnStats? = nil, cancelled: Bool = false) {
        self.role = role
        self.text = text
        self.stats = stats
        self.cancelled = cancelled
    }
}

/// A stored chat session: its settings and messages.
public struct StoredChatSession: Sendable, Equatable {
    /// The row id (nil before the first save).
    public var id: Int64?
    public var title: String
    /// The model's display name (file or folder name).
    public var model: String
    /// The adapter folder's path, if one was applied.
    public var adapter: String?
    /// The model's path, so a reopened session can load it again (nil for sessions saved before `chat-v2`).
    public var modelPath: String?
    public var systemPrompt: String
    public var kernelMode: String
    /// The sampler settings as a JSON object (`{"temperature":0.7,...}`).
    public var sampling: String
    public var createdAt: Double
    public var updatedAt: Double
    public var messages: [StoredChatMessage]

    /// Creates a session.
    public init(
        id: Int64? = nil, title: String, model: String, adapter: String? = nil, modelPath: String? = nil,
        systemPrompt: String = "",
        kernelMode: String = "none", sampling: String = "{}", createdAt: Double = Date().timeIntervalSince1970,
        updatedAt: Double = Date().timeIntervalSince1970, messages: [StoredChatMessage] = []
    ) {
        self.id = id
        self.title = title
        self.model = model
        self.adapter = adapter
        self.modelPath = modelPath
        self.systemPrompt = systemPrompt
        self.kernelMode = kernelMode
        self.sampling = sampling
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.messages = messages
    }
}

/// Chat sessions in the results database: saved after every answer, listed newest first,
/// renamed, deleted (messages go with them) and exported to Markdown.
public struct ChatSessionStore: Sendable {
    public let store: ResultStore

    /// A view of the chat tables of `store`.
    public init(store: ResultStore) { self.store = store }

    /// Adds the chat tables' migrations to the store's migrator.
    static func registerMigrations(_ m: inout DatabaseMigrator) {
        m.registerMigration("chat-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE chat_session (
                        id INTEGER PRIMARY KEY,
                        title TEXT NOT NULL,
                        model TEXT NOT NULL,
                        adapter TEXT,
                        system_prompt TEXT NOT NULL DEFAULT '',
                        kernel_mode TEXT NOT NULL DEFAULT 'none',
                        sampling TEXT NOT NULL DEFAULT '{}',
                        created_at REAL NOT NULL,
                        updated_at REAL NOT NULL
                    );
                    CREATE TABLE chat_message (
                        id INTEGER PRIMARY KEY,
                        session_id INTEGER NOT NULL REFERENCES chat_session(id) ON DELETE CASCADE,
                        position INTEGER NOT NULL,
                        role TEXT NOT NULL,
                        text TEXT NOT NULL,
                        prompt_tokens INTEGER,
                        generated_tokens INTEGER,
                        prompt_tps REAL,
                        generation_tps REAL,
                        cancelled INTEGER NOT NULL DEFAULT 0,
                        UNIQUE (session_id, position)
                    );
                    """)
        }
        // The model's path beside its name; existing rows keep everything and read back a nil path.
        m.registerMigration("chat-v2") { db in
            try db.execute(sql: "ALTER TABLE chat_session ADD COLUMN model_path TEXT")
        }
    }

    /// Inserts the session (when `id` is nil) or replaces its settings and messages; returns its id.
    @discardableResult
    public func save(_ session: StoredChatSession) throws -> Int64 {
        try store.write { db in
            var id = session.id
            if let existing = id,
                try Int64.fetchOne(db, sql: "SELECT id FROM chat_session WHERE id = ?", arguments: [existing]) != nil
            {
                try db.execute(
                    sql: """
                        UPDATE chat_session SET title = ?, model = ?, adapter = ?, model_path = ?, system_prompt = ?,
                            kernel_mode = ?, sampling = ?, updated_at = ? WHERE id = ?
                        """,
                    arguments: [
                        session.title, session.model, session.adapter, session.modelPath, session.systemPrompt,
                        session.kernelMode, session.sampling, session.updatedAt, existing
                    ])
                try db.execute(sql: "DELETE FROM chat_message WHERE session_id = ?", arguments: [existing])
            } else {
                try db.execute(
                    sql: """
                        INSERT INTO chat_session (title, model, adapter, model_path, system_prompt, kernel_mode, sampling,
                            created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        session.title, session.model, session.adapter, session.modelPath, session.systemPrompt,
                        session.kernelMode, session.sampling, session.createdAt, session.updatedAt
                    ])
                id = db.lastInsertedRowID
            }
            for (i, m) in session.messages.enumerated() {
                try db.execute(
                    sql: """
                        INSERT INTO chat_message (session_id, position, role, text, prompt_tokens, generated_tokens, prompt_tps,
                            generation_tps, cancelled) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        id, i, m.role.rawValue, m.text, m.stats?.promptTokens, m.stats?.generatedTokens,
                        m.stats?.promptTokensPerSecond, m.stats?.generationTokensPerSecond, m.cancelled
                    ])
            }
            return id!
        }
    }

    /// Every session, most recently changed first.
    public func list() throws -> [ChatSessionSummary] {
        try store.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT s.id, s.title, s.model, s.updated_at, (SELECT COUNT(*) FROM chat_message m WHERE m.session_id = s.id) AS n
                    FROM chat_session s ORDER BY s.updated_at DESC, s.id DESC
                    """
            ).map { r in
                ChatSessionSummary(
                    id: r["id"], title: r["title"], model: r["model"], messageCount: r["n"], updatedAt: r["updated_at"])
            }
        }
    }

    /// The session with this id and its messages in order.
    public func load(id: Int64) throws -> StoredChatSession {
        try store.read { db in
            guard let r = try Row.fetchOne(db, sql: "SELECT * FROM chat_session WHERE id = ?", arguments: [id]) else {
                throw LocatedError(store.url.path, "no chat session with id \(id)")
            }
            let messages = try Row.fetchAll(
                db, sql: "SELECT * FROM chat_message WHERE session_id = ? ORDER BY position", arguments: [id]
            ).map { m in
                // A row has statistics when it has a prompt token count; a missing other column reads as 0.
                let stats = (m["prompt_tokens"] as Int?).map { p in
                    TurnStats(
                        promptTokens: p, generatedTokens: m["generated_tokens"] ?? 0,
                        promptTokensPerSecond: m["prompt_tps"] ?? 0, generationTokensPerSecond: m["generation_tps"] ?? 0
                    )
                }
                return StoredChatMessage(
                    role: ChatRole(rawValue: m["role"]), text: m["text"], stats: stats, cancelled: m["cancelled"])
            }
            return StoredChatSession(
                id: id, title: r["title"], model: r["model"], adapter: r["adapter"], modelPath: r["model_path"],
                systemPrompt: r["system_prompt"],
                kernelMode: r["kernel_mode"], sampling: r["sampling"], createdAt: r["created_at"],
                updatedAt: r["updated_at"], messages: messages)
        }
    }

    /// Gives a session a new title.
    public func rename(id: Int64, to title: String) throws {
        try store.write { db in
            try db.execute(sql: "UPDATE chat_session SET title = ? WHERE id = ?", arguments: [title, id])
            guard db.changesCount == 1 else { throw LocatedError(store.url.path, "no chat session with id \(id)") }
        }
    }

    /// Deletes a session and its messages.
    public func delete(id: Int64) throws {
        try store.write { db in
            try db.execute(sql: "DELETE FROM chat_session WHERE id = ?", arguments: [id])
        }
    }

    /// Writes the session as Markdown to `url` (atomically).
    public func exportMarkdown(id: Int64, to url: URL) throws {
        try AtomicFile.write(Data(Self.markdown(try load(id: id)).utf8), to: url)
    }

    /// The session as Markdown: a title, its settings, then one section per message.
    public static func markdown(_ s: StoredChatSession) -> String {
        var out = "# \(s.title)\n\n"
        out += "- model: `\(s.model)`\n"
        if let p = s.modelPath { out += "- model path: `\(p)`\n" }
        if let a = s.adapter { out += "- adapter: `\(a)`\n" }
        out += "- kernel mode: \(s.kernelMode)\n- sampling: `\(s.sampling)`\n"
        if !s.systemPrompt.isEmpty { out += "\n## System\n\n\(s.systemPrompt)\n" }
        for m in s.messages {
            out += "\n## \(m.role == .user ? "You" : m.role == .assistant ? "Assistant" : "System")\n\n\(m.text)\n"
            if let stats = m.stats {
                out += "\n*\(stats.promptTokens) prompt + \(stats.generatedTokens) generated tokens"
                out += String(format: ", %.1f tok/s*\n", stats.generationTokensPerSecond)
            }
            if m.cancelled { out += "\n*(stopped)*\n" }
        }
        return out
    }
}
