import LEMCore
import Testing

@testable import Panels

@Suite struct ChatSessionsTests {
    static func chat() -> ChatViewModel {
        var m = ChatSettingsTests.chat()
        m.sessions = [
            ChatSessionSummary(
                id: 7, title: "LoRA questions", model: "smollm2", messageCount: 4, updatedAt: 1_795_000_000),
            ChatSessionSummary(id: 3, title: "漢字 and emoji 👍", model: "gemma3", messageCount: 2, updatedAt: 0)
        ]
        m.sessionID = 7
        return m
    }

    @Test func dialogListsOpensRenamesDeletesAndExports() {
        var p = ChatPanel(model: Self.chat())
        var (_, intents) = press(&p, [KeyEvent(.function(3))])
        #expect(intents == [.chat(.listSessions)] && p.focus == .sessions)
        assertSnapshot(renderPanel(p, width: 90, height: 12), "chat-sessions")
        (_, intents) = press(&p, [KeyEvent(.down), .char("e")])
        #expect(intents == [.chat(.exportSession(3))])
        (_, intents) = press(
            &p, [.char("r"), KeyEvent(.char("u"), .ctrl), .char("N"), .char("e"), .char("w"), KeyEvent(.enter)])
        #expect(intents == [.chat(.renameSession(3, "New"))])
        (_, intents) = press(&p, [.char("d")])
        #expect(intents.isEmpty && p.confirmDelete)
        assertSnapshot(renderPanel(p, width: 90, height: 12), "chat-sessions-delete")
        (_, intents) = press(&p, [.char("n")])
        #expect(intents.isEmpty && !p.confirmDelete, "anything but y keeps the session")
        (_, intents) = press(&p, [.char("d"), .char("y")])
        #expect(intents == [.chat(.deleteSession(3))])
        (_, intents) = press(&p, [KeyEvent(.up), KeyEvent(.enter)])
        #expect(intents == [.chat(.openSession(7))] && p.focus == .input)
        (_, intents) = press(&p, [KeyEvent(.char("n"), .alt)])
        #expect(intents == [.chat(.newSession)])
        for (w, h) in PanelSnapshotTests.tinySizes { _ = renderPanel(p, width: w, height: h) }
    }

    @Test func emptyListSaysWhenSessionsAreSaved() {
        var m = Self.chat()
        m.sessions = []
        var p = ChatPanel(model: m)
        _ = press(&p, [KeyEvent(.function(3))])
        let text = (0..<10).map { renderPanel(p, width: 90, height: 10).line($0) }.joined()
        #expect(text.contains("No stored sessions yet"))
        let (_, intents) = press(&p, [KeyEvent(.enter), .char("d"), .char("e")])
        #expect(intents.isEmpty)
    }

    @Test func utcDates() {
        #expect(Fmt.utcDate(0) == "1970-01-01 00:00")
        #expect(Fmt.utcDate(951_782_400) == "2000-02-29 00:00")
        #expect(Fmt.utcDate(1_795_000_000) == "2026-11-18 11:06")
    }
}
