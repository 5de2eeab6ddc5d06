import Testing

@testable import Panels

/// A bracketed paste lands in the text being typed as text: its line breaks never act as Enter.
@Suite struct PasteTests {
    static let screen = Rect(x: 0, y: 0, width: 100, height: 30)

    @Test func insertKeepsLinesInAMultilineInputAndSpacesThemInAOneLineInput() {
        var multi = TextInputState(multiline: true, text: "ab")
        let inserted = multi.insert("1\r\n2\r3\n\t4\u{7}")
        #expect(inserted)
        #expect(multi.text == "ab1\n2\n3\n 4")
        #expect((multi.row, multi.column) == (3, 2))
        var single = TextInputState(text: "x")
        single.insert("a\nb")
        #expect(single.text == "xa b")
        let controls = single.insert("\u{1}\u{2}")
        #expect(!controls)
    }

    @Test func fortyOneLinesPastedIntoChatAreOnePromptNotFortyOneMessages() {
        var wb = Workbench()
        let text = (1...41).map { "line \($0)" }.joined(separator: "\n")
        var intents: [WorkbenchIntent] = []
        let r = wb.handle(.paste(text), screen: Self.screen) { intents.append($0) }
        #expect(r == .redraw && intents.isEmpty)
        #expect(wb.chat.input.text == text && wb.chat.input.lines.count == 41)
        _ = wb.handle(.key(KeyEvent(.enter)), screen: Self.screen) { intents.append($0) }
        #expect(intents == [.chat(.send(text))])
    }

    @Test func pastesGoToTheLineBeingTypedInEveryPanelAndAreIgnoredElsewhere() {
        var wb = Workbench()
        wb.bench.model = PanelFixtures.bench()
        wb.selected = .bench
        var intents: [WorkbenchIntent] = []
        #expect(wb.handle(.paste("ignored"), screen: Self.screen) { intents.append($0) } == .ignored)
        _ = wb.handle(.key(.char("/")), screen: Self.screen) { intents.append($0) }
        _ = wb.handle(.paste("p1\n"), screen: Self.screen) { intents.append($0) }
        #expect(wb.bench.filter.text == "p1 ")
        wb.selected = .attention
        _ = wb.handle(.key(.char("p")), screen: Self.screen) { intents.append($0) }
        _ = wb.handle(.paste("The cat"), screen: Self.screen) { intents.append($0) }
        #expect(wb.attention.promptInput.text == "The cat" && intents.isEmpty)
        // The palette's query takes a paste while it is open.
        _ = wb.handle(.key(KeyEvent(.escape)), screen: Self.screen) { intents.append($0) }
        _ = wb.handle(.key(.ctrl("p")), screen: Self.screen) { intents.append($0) }
        _ = wb.handle(.paste("theme"), screen: Self.screen) { intents.append($0) }
        guard case .palette(let p)? = wb.overlay else {
            Issue.record("palette not open")
            return
        }
        #expect(p.query.text == "theme")
    }
}

/// One generation at a time: a prompt, a regenerate or an edit while an answer (or the split
/// view's answers) runs is refused with a notice, and the typed prompt is kept.
@Suite struct OneAnswerAtATimeTests {
    static let screen = Rect(x: 0, y: 0, width: 100, height: 30)

    @Test func enterWhileAnsweringKeepsThePromptAndSaysWhy() {
        var wb = Workbench()
        wb.chat.model.beginTurn(prompt: "first")
        var intents: [WorkbenchIntent] = []
        _ = wb.handle(.paste("second\nprompt"), screen: Self.screen) { intents.append($0) }
        _ = wb.handle(.key(KeyEvent(.enter)), screen: Self.screen) { intents.append($0) }
        #expect(intents.isEmpty)
        #expect(wb.chat.input.text == "second\nprompt")
        #expect(wb.notice == ChatViewModel.busyNotice)
        // The split view's answers count as running too, for Enter and for regenerate.
        wb = Workbench()
        wb.chat.model.beginTurn(prompt: "q")
        wb.chat.model.finishTurn(stats: nil)
        wb.chat.model.beginComparison(leftTitle: "A", rightTitle: "B")
        _ = wb.handle(.key(.ctrl("r")), screen: Self.screen) { intents.append($0) }
        #expect(intents.isEmpty && wb.notice == ChatViewModel.busyNotice)
        _ = wb.handle(.key(.char("x")), screen: Self.screen) { intents.append($0) }
        _ = wb.handle(.key(KeyEvent(.enter)), screen: Self.screen) { intents.append($0) }
        #expect(intents.isEmpty && wb.chat.input.text == "x" && wb.notice == ChatViewModel.busyNotice)
        // Once the answers are in, the same Enter sends.
        wb.chat.model.endComparison()
        _ = wb.handle(.key(KeyEvent(.enter)), screen: Self.screen) { intents.append($0) }
        #expect(intents == [.chat(.send("x"))])
    }
}
