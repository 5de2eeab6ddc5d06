import Foundation
@testable import LEMStore
import Testing

@Suite struct ChatSessionStoreTests {
    static func session(_ title: String, at time: Double) -> StoredChatSession {
        StoredChatSession(title: title, model: "SmolLM2", adapter: "/a/adapters", systemPrompt: "Be brief.", kernelMode: "sandwich",
                          sampling: #"{"temperature":0.7}"#, createdAt: time, updatedAt: time, messages: [
                              StoredChatMessage(role: "user", text: "Hi"),
                              StoredChatMessage(role: "assistant", text: "Hello **there**", promptTokens: 12, generatedTokens: 3,
                                                promptTokensPerSecond: 200, generationTokensPerSecond: 41.25, cancelled: false),
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
        #expect(try chats.load(id: first) == { var s = Self.session("first", at: 100); s.id = first; return s }())

        // Saving again replaces the messages and moves the session to the top.
        var older = try chats.load(id: first)
        older.messages.append(StoredChatMessage(role: "user", text: "More?"))
        older.updatedAt = 300
        #expect(try chats.save(older) == first)
        #expect(try chats.list().map(\.id) == [first, second.id!])
        #expect(try chats.load(id: first).messages.map(\.text) == ["Hi", "Hello **there**", "More?"])

        try chats.rename(id: first, to: "renamed")
        #expect(try chats.load(id: first).title == "renamed")
        #expect(throws: StoreError.self) { try chats.rename(id: 999, to: "x") }
        try chats.delete(id: first)
        #expect(try chats.list().map(\.title) == ["second"])
        #expect(try db.store.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM chat_message") } == 2)
        #expect(throws: StoreError.self) { try chats.load(id: first) }
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
        #expect(text.contains("\n## You\n\nHi\n\n## Assistant\n\nHello **there**\n\n*12 prompt + 3 generated tokens, 41.2 tok/s*\n"))
    }
}
