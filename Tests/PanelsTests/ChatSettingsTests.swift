@testable import Panels
import Testing

@Suite struct ChatSettingsTests {
    static func chat() -> ChatViewModel {
        var m = PanelFixtures.chat()
        m.finishTurn(stats: nil)
        m.availableModels = [ChatChoice(name: "smollm2", path: "/m/smollm2.gguf"), ChatChoice(name: "gemma3", path: "/m/gemma3")]
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
        var keys: [KeyEvent] = [KeyEvent(.right), KeyEvent(.down), KeyEvent(.right), KeyEvent(.down), KeyEvent(.right), KeyEvent(.down), KeyEvent(.down)]
        keys += [KeyEvent(.enter), KeyEvent(.char("u"), .ctrl), .char("0"), .char("."), .char("2"), KeyEvent(.enter)]
        keys += [KeyEvent(.down), KeyEvent(.down), KeyEvent(.down), KeyEvent(.down), KeyEvent(.enter), KeyEvent(.char("u"), .ctrl), .char("7"), KeyEvent(.enter)]
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
        _ = press(&p, [KeyEvent(.function(2))] + Array(repeating: KeyEvent(.down), count: 6) + [KeyEvent(.enter), .char("x"), KeyEvent(.enter)])
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
        var c = ChatComparison(leftTitle: "A", rightTitle: "B", left: ["a", "b"], right: ["a", "b"], leftIds: [1, 2], rightIds: [1, 3])
        #expect(c.firstDivergence == 1)
        c.isRunning = true
        c.rightIds = [1]
        c.right = ["a"]
        #expect(c.firstDivergence == nil, "a shorter side still generating has not diverged")
        c.isRunning = false
        #expect(c.firstDivergence == 1)
        m.comparison = ChatComparison(leftTitle: "A · base", rightTitle: "B · base + lem", left: ["Hi", " there"], right: ["Hi"], leftIds: [5, 6], rightIds: [5], isRunning: true)
        assertSnapshot(renderPanel(ChatPanel(model: m), width: 80, height: 10), "chat-compare-running")
        var p = ChatPanel(model: m)
        let (_, intents) = press(&p, [KeyEvent(.escape)])
        #expect(intents == [.chat(.cancel)] && p.model.comparison == nil)
    }
}
