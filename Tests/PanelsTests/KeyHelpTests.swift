import Testing

@testable import Panels

/// Help lists only the keys that do something where it is opened, and a keys file whose
/// bindings cannot all do what help says is reported.
@Suite struct KeyHelpTests {
    static let screen = Rect(x: 0, y: 0, width: 100, height: 30)

    func helpText(_ wb: Workbench) -> String { wb.helpLines.map(\.text).joined(separator: "\n") }

    func row(_ wb: Workbench, _ label: String) -> String? {
        wb.helpLines.map(\.text).first { $0.hasSuffix(label) }
    }

    @Test func whileTypingHelpListsOnlyTheChordsAndTheyWork() {
        var wb = Workbench()
        // Chat's prompt takes typed text: "1", "q" and "?" type, so help lists alt-1, ctrl-q, f1.
        #expect(wb.current.capturesText)
        #expect(row(wb, "Chat panel")?.hasPrefix("alt-1 ") == true, "\(row(wb, "Chat panel") ?? "")")
        #expect(row(wb, "quit")?.hasPrefix("ctrl-q ctrl-c ") == true, "\(row(wb, "quit") ?? "")")
        #expect(row(wb, "this help")?.hasPrefix("f1 ") == true)
        #expect(helpText(wb).contains("While typing, plain keys type text"))
        // What help lists does it: alt-2 switches, "2" is typed.
        _ = wb.handle(.key(.char("2")), screen: Self.screen) { _ in }
        #expect(wb.selected == .chat && wb.chat.input.text == "2")
        _ = wb.handle(.key(KeyEvent(.char("2"), .alt)), screen: Self.screen) { _ in }
        #expect(wb.selected == .train)
        // Train takes no typed text: the plain keys are listed and work.
        #expect(row(wb, "Chat panel")?.hasPrefix("1 alt-1 ") == true)
        #expect(!helpText(wb).contains("While typing"))
    }

    @Test func aGlobalKeyAPanelBindsIsLeftOutOfThatPanelsHelpAndReported() throws {
        let keys = try KeyMap.builtin.overriding(with: "global.quit = ctrl-r, ctrl-q", source: "keys")
        #expect(
            keys.conflicts() == [
                "ctrl-r is bound to global.quit and bench.reload: in bench it does bench.reload",
                "ctrl-r is bound to global.quit and chat.regenerate: in chat it does chat.regenerate"
            ])
        var wb = Workbench(keys: keys)
        #expect(row(wb, "quit")?.hasPrefix("ctrl-q ") == true, "\(row(wb, "quit") ?? "")")
        wb.selected = .train
        #expect(row(wb, "quit")?.hasPrefix("ctrl-r ctrl-q ") == true)
        #expect(wb.handle(.key(.ctrl("r")), screen: Self.screen) { _ in } == .quit)
        // Keys a text input edits with, and two actions of one panel on one key.
        let clash = try KeyMap.builtin.overriding(with: "global.theme = ctrl-u\ntrain.stop = r", source: "keys")
        #expect(
            clash.conflicts() == [
                "r is bound to train.resume and train.stop: only train.stop runs",
                "ctrl-u is bound to global.theme but edits text in input boxes: there it does not run"
            ])
        // A binding no key of which works here is shown as "—", not as a key that does nothing.
        let lone = try KeyMap.builtin.overriding(with: "global.theme = ctrl-u", source: "keys")
        #expect(row(Workbench(keys: lone), "next theme")?.hasPrefix("— ") == true)
    }

    @Test func theBuiltInKeysHaveNoConflicts() {
        #expect(KeyMap.builtin.conflicts().isEmpty)
    }

    @Test func theSessionsDialogClosesWithItsOwnKeyAndLeavesOtherKeysToTheWorkbench() throws {
        let keys = try KeyMap.builtin.overriding(with: "chat.sessions = alt-o", source: "keys")
        var wb = Workbench(keys: keys)
        _ = wb.handle(.key(KeyEvent(.char("o"), .alt)), screen: Self.screen) { _ in }
        #expect(wb.chat.focus == .sessions)
        // F3 is no longer the sessions key: it does not close the dialog; alt-o does.
        _ = wb.handle(.key(KeyEvent(.function(3))), screen: Self.screen) { _ in }
        #expect(wb.chat.focus == .sessions)
        _ = wb.handle(.key(KeyEvent(.char("o"), .alt)), screen: Self.screen) { _ in }
        #expect(wb.chat.focus == .input)
        // In the dialog (no text typed) q quits, as help lists.
        _ = wb.handle(.key(KeyEvent(.char("o"), .alt)), screen: Self.screen) { _ in }
        #expect(!wb.current.capturesText)
        #expect(wb.handle(.key(.char("q")), screen: Self.screen) { _ in } == .quit)
    }
}
