import Testing

@testable import Panels

@Suite struct ChatSettingsTests {
    static func chat() -> ChatViewModel {
        var m = PanelFixtures.chat()
        m.finishTurn(stats: nil)
        m.availableModels = [
            ChatChoice(name: "smollm2", path: "/m/smollm2.gguf"), ChatChoice(name: "gemma3", path: "/m/gemma3")
        ]
        m.availableAdapters = [ChatChoice(name: "runs/lem-r8", path: "/a/runs/lem-r8")]
        m.modelPath = "/m/smollm2.gguf"
        return m
    }

    @Test func pickersAndSamplerApplyAsOneIntentOnClose() {
        var p = ChatPanel(model: Self.chat())
        _ = press(&p, [KeyEvent(.function(2))])
        #expect(p.focus == .settings)
        #expect(!p.capturesText, "plain keys are not typed while browsing the form")
        // model → gemma3, adapter → lem-r8, B model → smollm2, temperature 0.2, seed 7, kernel → system
        var keys: [KeyEvent] = [
            KeyEvent(.right), KeyEvent(.down), KeyEvent(.right), KeyEvent(.down), KeyEvent(.right), KeyEvent(.down),
            KeyEvent(.down)
        ]
        keys += [KeyEvent(.enter), KeyEvent(.char("u"), .ctrl), .char("0"), .char("."), .char("2"), KeyEvent(.enter)]
        keys += [
            KeyEvent(.down), KeyEvent(.down), KeyEvent(.down), KeyEvent(.down), KeyEvent(.enter),
            KeyEvent(.char("u"), .ctrl), .char("7"), KeyEvent(.enter)
        ]
        keys += [KeyEvent(.down), KeyEvent(.right)]
        _ = press(&p, keys)
        assertSnapshot(renderPanel(p, width: 100, height: 18), "chat-settings")
        let (_, intents) = press(&p, [KeyEvent(.escape)])
        #expect(p.focus == .input)
        var expected = Self.chat().settings
        expected.modelPath = "/m/gemma3"
        expected.adapterPath = "/a/runs/lem-r8"
        expected.compareModelPath = "/m/smollm2.gguf"
        expected.sampler.temperature = 0.2
        expected.sampler.seed = 7
        expected.kernelMode = .system
        #expect(intents == [.chat(.applySettings(expected))])
    }

    @Test func badNumbersKeepTheFormOpenWithTheReason() {
        var p = ChatPanel(model: Self.chat())
        _ = press(
            &p,
            [KeyEvent(.function(2))] + Array(repeating: KeyEvent(.down), count: 6) + [
                KeyEvent(.enter), .char("x"), KeyEvent(.enter)
            ])
        let (_, intents) = press(&p, [KeyEvent(.escape)])
        #expect(intents.isEmpty)
        #expect(p.focus == .settings)
        #expect(p.settingsError == "top-k must be a whole number ≥ 0")
        let narrow = renderPanel(p, width: 50, height: 16)
        #expect((0..<16).map { narrow.line($0) }.joined().contains("top-k must be"))
        for (w, h) in PanelSnapshotTests.tinySizes { _ = renderPanel(p, width: w, height: h) }
    }

    @Test func unchangedSettingsSendNothing() {
        var p = ChatPanel(model: Self.chat())
        let (_, intents) = press(&p, [KeyEvent(.function(2)), KeyEvent(.function(2))])
        #expect(intents.isEmpty && p.focus == .input)
    }

    @Test func statusLineAndComparisonByTokenIds() {
        var m = Self.chat()
        m.status = "loading gemma3…"
        assertSnapshot(renderPanel(ChatPanel(model: m), width: 80, height: 12), "chat-status")
        // Same text, different ids: the ids decide.
        var c = ChatComparison(
            leftTitle: "A", rightTitle: "B", left: ["a", "b"], right: ["a", "b"], leftIds: [1, 2], rightIds: [1, 3])
        #expect(c.firstDivergence == 1)
        c.isRunning = true
        c.rightIds = [1]
        c.right = ["a"]
        #expect(c.firstDivergence == nil, "a shorter side still generating has not diverged")
        c.isRunning = false
        #expect(c.firstDivergence == 1)
        m.comparison = ChatComparison(
            leftTitle: "A · base", rightTitle: "B · base + lem", left: ["Hi", " there"], right: ["Hi"], leftIds: [5, 6],
            rightIds: [5], isRunning: true)
        assertSnapshot(renderPanel(ChatPanel(model: m), width: 80, height: 10), "chat-compare-running")
        var p = ChatPanel(model: m)
        let (_, intents) = press(&p, [KeyEvent(.escape)])
        #expect(intents == [.chat(.cancel)] && p.model.comparison == nil)
    }
}

/// The system prompt is edited in a wrapped multi-line area: a long or pasted multi-line prompt
/// is seen whole, not only its end.
@Suite struct SystemPromptEditorTests {
    static let prompt = """
        You are a careful assistant. Answer in plain English, cite the principle you rely on, and say so when you do not know.
        Never invent facts.
        Keep answers under 200 words.
        """

    @Test func aLongMultiLinePromptIsShownWholeWhileEditedAndKeepsItsLines() {
        var p = ChatPanel(model: ChatSettingsTests.chat())
        _ = press(
            &p,
            [KeyEvent(.function(2))] + Array(repeating: KeyEvent(.down), count: 10) + [
                KeyEvent(.enter), KeyEvent(.char("u"), .ctrl)
            ])
        #expect(
            p.settingsForm.fields[p.settingsForm.selected].key == "system" && p.settingsForm.editor?.multiline == true)
        _ = p.handle(.paste(Self.prompt), area: Rect(x: 0, y: 0, width: 100, height: 24), keys: .builtin) { _ in }
        // A new line typed with Alt-Enter, then one more word.
        _ = press(&p, [KeyEvent(.enter, .alt)] + "Be kind.".map { KeyEvent.char($0) })
        let shown = renderPanel(p, width: 100, height: 24)
        assertSnapshot(shown, "chat-settings-system-prompt")
        let text = shown.lines.joined(separator: "\n")
        // The start of the prompt and its last line are both on screen.
        #expect(text.contains("You are a careful") && text.contains("Be kind."), "\(text)")
        #expect(p.hints(keys: .builtin).contains(KeyHint("Alt-Enter", "new line")))
        _ = press(&p, [KeyEvent(.enter)])
        #expect(p.settingsForm.editor == nil)
        let (_, intents) = press(&p, [KeyEvent(.escape)])
        guard case .chat(.applySettings(let s))? = intents.first else {
            Issue.record("no settings applied")
            return
        }
        #expect(s.systemPrompt == Self.prompt + "\nBe kind.")
        for (w, h) in PanelSnapshotTests.tinySizes { _ = renderPanel(p, width: w, height: h) }
    }

    @Test func textAreaWrapsAtSpacesAndPlacesTheCursor() {
        let s = TextInputState(multiline: true, text: "one two three")
        let (rows, cursor) = TextArea.layout(s, width: 8)
        #expect(rows == [.init(line: 0, start: 0, end: 8), .init(line: 0, start: 8, end: 13)])  // "one two " | "three"
        #expect(cursor.row == 1 && cursor.x == 5)
    }

    @Test func textAreaWrapsAndPlacesTheCursor() {
        var s = TextInputState(multiline: true, text: "abcdef\n\nxy")
        var (rows, cursor) = TextArea.layout(s, width: 3)
        #expect(
            rows == [
                .init(line: 0, start: 0, end: 3), .init(line: 0, start: 3, end: 6), .init(line: 1, start: 0, end: 0),
                .init(line: 2, start: 0, end: 2)
            ])
        #expect(cursor.row == 3 && cursor.x == 2)
        // The cursor after a full row's last character gets a row of its own.
        s = TextInputState(multiline: true, text: "abc")
        (rows, cursor) = TextArea.layout(s, width: 3)
        #expect(rows.count == 2 && cursor.row == 1 && cursor.x == 0)
        // A zero-size or one-cell area draws without trapping.
        _ = render(TextArea(s), width: 0, height: 0)
        _ = render(TextArea(s), width: 1, height: 1)
    }
}
