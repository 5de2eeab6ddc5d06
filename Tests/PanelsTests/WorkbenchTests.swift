import Testing

@testable import Panels

@Suite struct WorkbenchTests {
    static let screen = Rect(x: 0, y: 0, width: 100, height: 30)

    func send(_ wb: inout Workbench, _ keys: [KeyEvent]) -> (EventResult, [WorkbenchIntent]) {
        var intents: [WorkbenchIntent] = []
        var last = EventResult.ignored
        for k in keys { last = wb.handle(.key(k), screen: Self.screen) { intents.append($0) } }
        return (last, intents)
    }

    @Test func chatTypingSendsPromptsAndDigitsStayText() {
        var wb = Workbench()
        let (_, intents) = send(&wb, [.char("h"), .char("1"), KeyEvent(.enter)])
        #expect(intents == [.chat(.send("h1"))])
        #expect(wb.selected == .chat)
        _ = send(&wb, [KeyEvent(.char("2"), .alt)])
        #expect(wb.selected == .train)
        _ = send(&wb, [.char("4")])
        #expect(wb.selected == .attention)
        _ = send(&wb, [KeyEvent(.right, .ctrl)])
        #expect(wb.selected == .chat)
    }

    @Test func chatEscapeCancelsAndEditResends() {
        var wb = Workbench()
        wb.chat.model = PanelFixtures.chat()
        #expect(wb.isBusy)
        let (_, cancel) = send(&wb, [KeyEvent(.escape)])
        #expect(cancel == [.chat(.cancel)])
        wb.chat.model.finishTurn(stats: nil)
        let (_, edit) = send(&wb, [KeyEvent(.char("e"), .alt), .char("!"), KeyEvent(.enter)])
        #expect(edit == [.chat(.editAndResend(messageIndex: 2, text: "And QLoRA?!"))])
        let (_, regen) = send(&wb, [.ctrl("r")])
        #expect(regen == [.chat(.regenerate)])
    }

    @Test func benchRowJumpsToChatAndAttention() throws {
        var wb = Workbench()
        wb.bench.model = PanelFixtures.bench()
        wb.selected = .bench
        _ = send(&wb, [KeyEvent(.tab)])  // the prompt browser
        let row = try #require(wb.bench.visiblePrompts.first)
        let (_, toChat) = send(&wb, [KeyEvent(.char("c"), .alt)])
        #expect(wb.selected == .chat)
        #expect(wb.chat.input.text == row.prompt)
        let expected = row.benchmark == "gsm8k" || row.benchmark == "seeds" ? 512 : 256
        guard case .chat(.applySettings(let settings))? = toChat.first else {
            Issue.record("expected chat settings, got \(toChat)")
            return
        }
        #expect(settings.sampler.temperature == 0.3)
        #expect(settings.sampler.maxTokens == expected)

        wb.selected = .bench
        let (_, toAttention) = send(&wb, [KeyEvent(.char("a"), .alt)])
        #expect(wb.selected == .attention)
        guard case .attention(.analyzeTurn(let user, let answer))? = toAttention.first else {
            Issue.record("expected an attention turn, got \(toAttention)")
            return
        }
        #expect(user == row.prompt)
        #expect(answer != nil && row.answers.contains(answer!))
    }

    @Test func helpPaletteAndQuit() {
        var wb = Workbench()
        wb.selected = .train
        _ = send(&wb, [.char("?")])
        #expect(wb.overlay == .help(offset: 0))
        var b = ScreenBuffer(width: 100, height: 30)
        wb.render(into: &b)
        #expect(b.lines.contains { $0.contains("Help · Train") })
        _ = send(&wb, [KeyEvent(.escape), .char(":")])
        guard case .palette = wb.overlay else {
            Issue.record("palette not open")
            return
        }
        let (r, intents) = send(&wb, [.char("l"), .char("i"), .char("g"), .char("h"), .char("t"), KeyEvent(.enter)])
        #expect(intents == [.app(.setTheme("light"))] && r == .redraw && wb.overlay == nil)
        #expect(send(&wb, [.char("q")]).0 == .quit)
    }

    @Test func quitAsksFirstWhileWorkRuns() {
        var wb = Workbench()
        wb.train.model.isRunning = true
        wb.selected = .train
        // Following someone else's log does not hold the program; a run of ours does.
        #expect(!wb.isBusy)
        wb.train.model.isLocalRun = true
        #expect(send(&wb, [.char("q")]).0 == .redraw)
        #expect(wb.overlay == .confirmQuit)
        #expect(send(&wb, [.char("n")]).0 == .redraw)
        #expect(wb.overlay == nil)
        _ = send(&wb, [.char("q")])
        #expect(send(&wb, [.char("y")]).0 == .quit)
    }

    @Test func mouseClickOnATabSelectsIt() {
        var wb = Workbench()
        let ranges = Tabs(["Chat", "Train", "Bench", "Attention"], selected: 0).hitRanges(x: 0)
        let r = wb.handle(
            .mouse(MouseEvent(x: ranges[2].lowerBound + 1, y: 0, action: .press(button: 1))), screen: Self.screen
        ) { _ in }
        #expect(r == .redraw && wb.selected == .bench)
    }

    @Test func wholeScreenSnapshotsAndTinyScreens() {
        var wb = Workbench()
        wb.train.model = PanelFixtures.train()
        wb.selected = .train
        var b = ScreenBuffer(width: 80, height: 24)
        wb.render(into: &b)
        assertSnapshot(b, "workbench-train-80x24")
        for (w, h) in [(0, 0), (1, 1), (2, 2), (5, 3), (12, 5)] {
            for panel in PanelID.allCases {
                wb.selected = panel
                var t = ScreenBuffer(width: w, height: h)
                wb.render(into: &t)
                #expect(t.width == w)
            }
        }
    }

    @Test func markdownRendering() {
        let lines = MarkdownRenderer.render(
            "# Title\nsome **bold** and `code`\n- item that wraps around\n```\nlet x = 1\n```", width: 14)
        #expect(
            lines.map(\.text) == ["Title", "some bold and ", "code", "• item that ", "  wraps around", "  let x = 1   "]
        )
        #expect(lines[0].spans[0].style.attributes.contains(.bold))
        #expect(lines[1].spans.first { $0.text == "bold" }?.style.attributes.contains(.bold) == true)
        #expect(lines[2].spans[0].style.fg == .role(.code))
        #expect(MarkdownRenderer.render("x", width: 0).isEmpty)
    }
}
