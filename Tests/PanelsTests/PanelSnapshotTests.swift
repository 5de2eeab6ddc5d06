import Testing

@testable import Panels

@Suite struct PanelSnapshotTests {
    static let tinySizes = [(0, 0), (1, 1), (3, 2), (10, 4), (20, 6)]

    @Test func chatTranscriptStreamingAndSidePanel() {
        let p = ChatPanel(model: PanelFixtures.chat())
        assertSnapshot(renderPanel(p, width: 90, height: 30), "chat-90x30")
        for (w, h) in Self.tinySizes { #expect(renderPanel(p, width: w, height: h).width == w) }
    }

    @Test func chatResizeKeepsLayoutValid() {
        var p = ChatPanel(model: PanelFixtures.chat())
        p.showsSide = false
        assertSnapshot(renderPanel(p, width: 40, height: 16), "chat-40x16-noside")
    }

    @Test func chatComparisonMarksTheFirstDivergingToken() {
        var m = PanelFixtures.chat()
        m.comparison = ChatComparison(
            leftTitle: "base", rightTitle: "tuned", left: ["A", " cat", " sat", "."], right: ["A", " cat", " ran", "."])
        #expect(m.comparison?.firstDivergence == 2)
        #expect(ChatComparison(leftTitle: "", rightTitle: "", left: ["a"], right: ["a"]).firstDivergence == nil)
        #expect(ChatComparison(leftTitle: "", rightTitle: "", left: ["a"], right: ["a", "b"]).firstDivergence == 1)
        assertSnapshot(renderPanel(ChatPanel(model: m), width: 60, height: 12), "chat-compare")
    }

    @Test func chatComparisonKeepsTheAnswersLineBreaks() {
        var m = PanelFixtures.chat()
        m.comparison = ChatComparison(
            leftTitle: "A · base", rightTitle: "B · tuned",
            left: ["The", " principle", " of", "\n", "responsibility", "."],
            right: ["The", " principle", " of", "\n\n", "care", "."])
        let b = renderPanel(ChatPanel(model: m), width: 60, height: 12)
        assertSnapshot(b, "chat-compare-newlines")
        #expect(!b.lines.joined().contains("ofresponsibility"))
    }

    @Test func scrolledTextIsNeverHiddenUnderTheScrollbar() {
        // A long answer in the detail view: every word shows, the scrollbar has its own column.
        var p = BenchPanel(model: PanelFixtures.bench())
        let long = (1...40).map { "word\($0)" }.joined(separator: " ")
        p.model = BenchViewModel(
            runs: ["base", "tuned"],
            prompts: [
                BenchPromptResult(
                    id: "p0", benchmark: "ethics", prompt: "Prompt", answers: [long, long], scores: [0.5, 0.6])
            ])
        p.view = .detail
        let b = renderPanel(p, width: 60, height: 12)
        assertSnapshot(b, "bench-detail-scrollbar")
        let text = b.lines.joined(separator: "\n")
        for i in 1...12 {
            #expect(text.contains("word\(i) ") || text.contains("word\(i)│") || text.contains("word\(i)\n"), "word\(i)")
        }
        // The help overlay at 80×24: lines wrap beside its scrollbar, not under it.
        var wb = Workbench()
        _ = wb.handle(.key(KeyEvent(.function(1))), screen: Rect(x: 0, y: 0, width: 80, height: 24)) { _ in }
        var screen = ScreenBuffer(width: 80, height: 24)
        wb.render(into: &screen)
        assertSnapshot(screen, "workbench-help-80x24")
    }

    @Test func trainChartStatusAndLearningRate() {
        let p = TrainPanel(model: PanelFixtures.train())
        #expect(p.model.bestValidation == LossPoint(step: 75, value: 3.1 - 0.75))
        assertSnapshot(renderPanel(p, width: 80, height: 26), "train-80x26")
        var log = p
        log.logScale = true
        log.zoomLast = 40
        #expect(log.stepRange == 60...100)
        assertSnapshot(renderPanel(log, width: 60, height: 14), "train-log-zoom")
        for (w, h) in Self.tinySizes { _ = renderPanel(p, width: w, height: h) }
    }

    @Test func benchSummaryPromptsAndDetail() {
        var p = BenchPanel(model: PanelFixtures.bench())
        #expect(abs((p.model.delta(1, 0) ?? 0) - (p.model.mean(1, 0)! - p.model.mean(0, 0)!)) < 1e-12)
        assertSnapshot(renderPanel(p, width: 70, height: 8), "bench-summary")
        _ = press(&p, [KeyEvent(.tab)])
        #expect(p.view == .prompts)
        _ = press(&p, [.char("/"), .char("s"), .char("a"), .char("f"), KeyEvent(.enter)])
        #expect(p.visiblePrompts.map(\.id) == ["p1", "p3", "p5"])
        _ = press(&p, [.char("o"), .char("o")])  // id → benchmark → score
        #expect(p.sort == .score)
        #expect(p.visiblePrompts.map(\.id) == ["p5", "p3", "p1"])
        assertSnapshot(renderPanel(p, width: 70, height: 8), "bench-prompts")
        let (_, intents) = press(&p, [KeyEvent(.enter)])
        #expect(intents.isEmpty && p.view == .detail && p.selectedPrompt?.id == "p5")
        assertSnapshot(renderPanel(p, width: 70, height: 14), "bench-detail")
        for (w, h) in Self.tinySizes { _ = renderPanel(p, width: w, height: h) }
    }

    @Test func benchHighlightsMarkEveryOccurrence() {
        let lines = BenchPanel.highlighted("ab honest cd honest", spans: ["honest"], width: 40)
        let marked = lines[0].spans.filter { $0.style.bg == .role(.highlight) }.map(\.text)
        #expect(marked == ["honest", "honest"])
    }

    @Test func attentionGridMapLabelsAndReadout() {
        var p = AttentionPanel(model: PanelFixtures.attention())
        p.focus = .map
        p.query = 3
        p.key = 1
        assertSnapshot(renderPanel(p, width: 70, height: 14), "attention-70x14")
        for (w, h) in Self.tinySizes { _ = renderPanel(p, width: w, height: h) }
    }

    @Test func attentionKeysMoveCursorsAndSelectHeads() {
        var p = AttentionPanel(model: PanelFixtures.attention())
        let (_, intents) = press(&p, [KeyEvent(.down), KeyEvent(.right), KeyEvent(.right), KeyEvent(.enter)])
        #expect(intents == [.attention(.selectHead(layer: 1, head: 2))])
        #expect(p.focus == .map)
        _ = press(&p, [KeyEvent(.down), KeyEvent(.down), KeyEvent(.right)])
        #expect((p.query, p.key) == (2, 1))
        let (_, stat) = press(&p, [.char("s")])
        #expect(stat == [.attention(.selectStatistic("max"))])
    }
}
