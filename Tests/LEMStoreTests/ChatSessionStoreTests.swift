import Foundation
import GRDB
import LEMCore
import StoreTestSupport
import Testing

@testable import LEMStore

@Suite struct ChatSessionStoreTests {
    static func session(_ title: String, at time: Double) -> StoredChatSession {
        StoredChatSession(
            title: title, model: "SmolLM2", adapter: "/a/adapters", systemPrompt: "Be brief.", kernelMode: "sandwich",
            sampling: #"{"temperature":0.7}"#, createdAt: time, updatedAt: time,
            messages: [
                StoredChatMessage(role: .user, text: "Hi"),
                StoredChatMessage(
                    role: .assistant, text: "Hello **there**",
                    stats: TurnStats(
                        promptTokens: 12, generatedTokens: 3, promptTokensPerSecond: 200,
                        generationTokensPerSecond: 41.25),
                    cancelled: false)
            ])
    }

    @Test func saveListLoadRenameDeleteRoundTrip() throws {
        let db = try TempDatabase()
        let chats = ChatSessionStore(store: db.store)
        let first = try chats.save(Self.session("first", at: 100))
        var second = Self.session("second", at: 200)
        second.id = try chats.save(second)
        #expect(try chats.list().map(\.title) == ["second", "first"])
        #expect(try chats.list().map(\.messageCount) == [2, 2])
        #expect(
            try chats.load(id: first)
                == {
                    var s = Self.session("first", at: 100)
                    s.id = first
                    return s
                }())

        // Saving again replaces the messages and moves the session to the top.
        var older = try chats.load(id: first)
        older.messages.append(StoredChatMessage(role: .user, text: "More?"))
        older.updatedAt = 300
        #expect(try chats.save(older) == first)
        #expect(try chats.list().map(\.id) == [first, second.id!])
        #expect(try chats.load(id: first).messages.map(\.text) == ["Hi", "Hello **there**", "More?"])

        try chats.rename(id: first, to: "renamed")
        #expect(try chats.load(id: first).title == "renamed")
        #expect(throws: LocatedError.self) { try chats.rename(id: 999, to: "x") }
        try chats.delete(id: first)
        #expect(try chats.list().map(\.title) == ["second"])
        #expect(try db.store.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM chat_message") } == 2)
        #expect(throws: LocatedError.self) { try chats.load(id: first) }
    }

    @Test func markdownExportNamesSettingsAndTurns() throws {
        let db = try TempDatabase()
        let chats = ChatSessionStore(store: db.store)
        let id = try chats.save(Self.session("Greeting", at: 100))
        let url = db.directory.appendingPathComponent("out/greeting.md")
        try chats.exportMarkdown(id: id, to: url)
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(text.hasPrefix("# Greeting\n\n- model: `SmolLM2`\n- adapter: `/a/adapters`\n- kernel mode: sandwich\n"))
        #expect(text.contains("\n## System\n\nBe brief.\n"))
        #expect(
            text.contains(
                "\n## You\n\nHi\n\n## Assistant\n\nHello **there**\n\n*12 prompt + 3 generated tokens, 41.2 tok/s*\n"))
    }

    @Test func modelPathRoundTripsAndOldFilesMigrateWithoutLoss() throws {
        let db = try TempDatabase()
        let chats = ChatSessionStore(store: db.store)
        var s = Self.session("with path", at: 100)
        s.modelPath = "/models/SmolLM2.gguf"
        let id = try chats.save(s)
        #expect(try chats.load(id: id).modelPath == "/models/SmolLM2.gguf")
        #expect(ChatSessionStore.markdown(try chats.load(id: id)).contains("- model path: `/models/SmolLM2.gguf`\n"))

        // A file written before `chat-v2`: the row and its messages survive, the path reads back nil.
        let url = db.directory.appendingPathComponent("old.sqlite")
        let old = try DatabaseQueue(path: url.path)
        try ResultStore.migrator.migrate(old, upTo: "chat-v1")
        try old.write { d in
            try d.execute(
                sql: """
                    INSERT INTO chat_session (title, model, adapter, system_prompt, kernel_mode, sampling, created_at, updated_at)
                    VALUES ('old', 'SmolLM2', NULL, 'Be brief.', 'system', '{"temperature":0.5}', 1, 2)
                    """)
            try d.execute(
                sql: "INSERT INTO chat_message (session_id, position, role, text) VALUES (1, 0, 'user', 'Hi')")
        }
        try old.close()
        let upgraded = ChatSessionStore(store: try ResultStore(url: url))
        let loaded = try upgraded.load(id: 1)
        #expect(loaded.title == "old" && loaded.model == "SmolLM2" && loaded.modelPath == nil)
        #expect(
            loaded.kernelMode == "system" && loaded.sampling == #"{"temperature":0.5}"#
                && loaded.systemPrompt == "Be brief.")
        #expect(loaded.messages.map(\.text) == ["Hi"])
    }
}

@Suite struct ChatSessionRestoreTests {
    static func session(model: String? = "/m/SmolLM2.gguf", adapter: String? = "/a/run1") -> StoredChatSession {
        StoredChatSession(title: "t", model: "SmolLM2.gguf", adapter: adapter, modelPath: model)
    }

    @Test func restoresModelAndAdapterWhenBothExist() {
        let plan = ChatSessionRestore.plan(for: Self.session(), currentModel: "gemma.gguf") { _ in true }
        #expect(plan == ChatSessionRestore(modelPath: "/m/SmolLM2.gguf", adapterPath: "/a/run1", notice: nil))
        let bare = ChatSessionRestore.plan(for: Self.session(adapter: nil), currentModel: "gemma.gguf") { _ in true }
        #expect(bare == ChatSessionRestore(modelPath: "/m/SmolLM2.gguf", adapterPath: nil, notice: nil))
    }

    @Test func missingFilesKeepTheCurrentModelWithANotice() {
        let gone = ChatSessionRestore.plan(for: Self.session(), currentModel: "gemma.gguf") { $0 != "/m/SmolLM2.gguf" }
        #expect(gone.modelPath == nil && gone.adapterPath == nil)
        #expect(gone.notice?.contains("is gone (/m/SmolLM2.gguf); it continues on gemma.gguf") == true)
        let noAdapter = ChatSessionRestore.plan(for: Self.session(), currentModel: "gemma.gguf") { $0 != "/a/run1" }
        #expect(noAdapter.modelPath == "/m/SmolLM2.gguf" && noAdapter.adapterPath == nil)
        #expect(noAdapter.notice?.contains("adapter") == true)
        let old = ChatSessionRestore.plan(for: Self.session(model: nil), currentModel: "gemma.gguf") { _ in true }
        #expect(old.modelPath == nil && old.notice?.contains("without its model's path") == true)
        let oldSame = ChatSessionRestore.plan(for: Self.session(model: nil), currentModel: "SmolLM2.gguf") { _ in true }
        #expect(oldSame == ChatSessionRestore(modelPath: nil, adapterPath: nil, notice: nil))
    }
}
