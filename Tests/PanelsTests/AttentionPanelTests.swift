import Testing

@testable import Panels

/// The Attention panel's prompt strip, prompt editing and difference mode.
@Suite("Attention panel")
struct AttentionPanelTests {
    static let tinySizes = [(0, 0), (1, 1), (3, 2), (10, 4), (20, 6)]

    /// The fixture in difference mode: |ΔP| map, a ranking, a compare label.
    static func difference() -> AttentionViewModel {
        var m = PanelFixtures.attention()
        m.prompt = "The cat sat."
        m.compareLabel = "lek-adapter"
        m.showsDifference = true
        m.statistic = "map |ΔP|"
        m.ranked = [.init(layer: 2, head: 3, value: 0.25), .init(layer: 0, head: 1, value: 0.125)]
        return m
    }

    @Test func stripShowsPromptAndStatus() {
        var m = PanelFixtures.attention()
        m.prompt = "The cat\nsat."
        m.status = "analysing…"
        let p = AttentionPanel(model: m)
        assertSnapshot(renderPanel(p, width: 70, height: 14), "attention-strip-70x14")
        for (w, h) in Self.tinySizes { #expect(renderPanel(p, width: w, height: h).width == w) }
    }

    @Test func differenceModeShowsRankingAndTitle() {
        let p = AttentionPanel(model: Self.difference())
        let b = renderPanel(p, width: 70, height: 16)
        assertSnapshot(b, "attention-diff-70x16")
        #expect(b.snapshot.contains("most changed:"))
        #expect(b.snapshot.contains("L2 H3"))
        #expect(b.snapshot.contains("|B−A|"))
        for (w, h) in Self.tinySizes { #expect(renderPanel(p, width: w, height: h).width == w) }
    }

    @Test func typingAPromptEmitsAnalyse() {
        var p = AttentionPanel(model: PanelFixtures.attention())
        #expect(!p.capturesText)
        _ = press(&p, [.char("p")])
        #expect(p.isEditingPrompt && p.capturesText)
        let (_, typed) = press(&p, [.char("h"), .char("i"), .char("q")])
        #expect(typed.isEmpty)
        assertSnapshot(renderPanel(p, width: 70, height: 14), "attention-editing-70x14")
        let (_, intents) = press(&p, [KeyEvent(.enter)])
        #expect(intents == [.attention(.analyze("hiq"))])
        #expect(!p.isEditingPrompt)
        // Esc leaves without analysing; a blank prompt is not sent.
        _ = press(&p, [.char("p"), KeyEvent(.escape)])
        #expect(!p.isEditingPrompt)
    }

    @Test func runAndCompareKeys() {
        var p = AttentionPanel(model: Self.difference())
        let (_, intents) = press(&p, [.char("r"), .char("c")])
        #expect(intents == [.attention(.analyze("")), .attention(.toggleDifference)])
        #expect(p.hints(keys: .builtin).contains { $0.label == "first run" })
    }

    @Test func withoutColourTheMapIsShadedAndEveryTokenLabelsItsRowAndColumn() {
        var p = AttentionPanel(model: PanelFixtures.attention())
        var wb = Workbench()
        wb.setColorDepth(.none)
        p.monochrome = wb.attention.monochrome
        p.focus = .map
        p.query = 3
        p.key = 1
        let b = renderPanel(p, width: 70, height: 14)
        assertSnapshot(b, "attention-mono-70x14")
        // Shade characters carry the values; no cell relies on a colour (NO_COLOR drew reverse video).
        #expect(!b.snapshot.contains("heat"))
        let text = b.lines.joined(separator: "\n")
        #expect(text.contains("█") && text.contains("▒"), "\(text)")
        // Each query token labels its own row (one token per row), each key its column.
        for token in ["<s>", "The", "·cat", "·漢", "·sat", "."] {
            #expect(b.lines.contains { $0.contains("│" + token) || $0.contains(" " + token) }, "row label \(token)")
        }
    }

    @Test func aLongCaptureScrollsWithTheCursorAndSaysWhatIsShown() {
        let tokens = (0..<60).map { "tok\($0)" }
        var w = [Float](repeating: 0, count: 60 * 60)
        for q in 0..<60 { w[q * 60 + q] = 1 }
        var p = AttentionPanel(model: AttentionViewModel(layers: 1, heads: 1, stats: [0], tokens: tokens, weights: w))
        p.focus = .map
        p.query = 50
        p.key = 52
        let b = renderPanel(p, width: 80, height: 24)
        let text = b.lines.joined(separator: "\n")
        #expect(text.contains("of 60"), "\(text)")
        #expect(b.lines.contains { $0.contains("tok50") }, "the cursor's row is not shown:\n\(text)")
        #expect(text.contains("q50 'tok50' → k52 'tok52'"))
        assertSnapshot(b, "attention-long-80x24")
    }
}
