import Testing

@testable import Panels

@Suite struct WidgetSnapshotTests {
    @Test func blockWithTitleFocusedAndNot() {
        var b = ScreenBuffer(width: 20, height: 4)
        Block(title: "Chat", focused: true).render(into: &b, area: Rect(x: 0, y: 0, width: 10, height: 4))
        Block(title: "漢字タイトル", rightTitle: "r").render(into: &b, area: Rect(x: 10, y: 0, width: 10, height: 4))
        assertSnapshot(b, "block")
    }

    @Test func blockInTinyAreas() {
        for (w, h) in [(0, 0), (1, 1), (2, 1), (1, 3), (3, 2)] {
            let b = render(Block(title: "Title"), width: w, height: h)
            #expect(b.width == w && b.height == h)
        }
        assertSnapshot(render(Block(title: "Title"), width: 3, height: 2), "block-tiny")
    }

    @Test func tableWithSelectionAndScrollbar() {
        let rows = (0..<8).map { i in
            [StyledSpan("row \(i)"), StyledSpan(String(format2(Double(i) * 1.5)), .role(.deltaUp))]
        }
        let t = Table(
            columns: [TableColumn("Name", .fill(1)), TableColumn("Value", .fixed(6), alignRight: true)], rows: rows,
            state: TableState(selected: 5))
        assertSnapshot(render(t, width: 18, height: 5), "table")
        _ = render(t, width: 1, height: 1)
        _ = render(t, width: 0, height: 0)
    }

    @Test func textInputEditingAndRendering() {
        var s = TextInputState()
        for ch in "hello world" { _ = s.handle(.char(ch)) }
        _ = s.handle(.ctrl("w"))
        #expect(s.text == "hello ")
        _ = s.handle(KeyEvent(.home))
        _ = s.handle(.char(">"))
        #expect(s.text == ">hello ")
        _ = s.handle(KeyEvent(.end))
        _ = s.handle(KeyEvent(.backspace))
        #expect(s.handle(KeyEvent(.enter)) == .submitted(">hello"))
        #expect(s.text == "")
        _ = s.handle(KeyEvent(.up))
        #expect(s.text == ">hello")
        _ = s.handle(KeyEvent(.down))
        #expect(s.text == "")
        var m = TextInputState(multiline: true)
        for ch in "ab" { _ = m.handle(.char(ch)) }
        _ = m.handle(KeyEvent(.enter, .alt))
        for ch in "漢字" { _ = m.handle(.char(ch)) }
        #expect(m.text == "ab\n漢字")
        assertSnapshot(render(TextInput(m, focused: true), width: 6, height: 2), "text-input")
    }

    @Test func paletteFiltersFuzzily() {
        var p = CommandPaletteState(commands: [
            PaletteCommand(title: "Open chat", action: "tab.chat"),
            PaletteCommand(title: "Open train", action: "tab.train"),
            PaletteCommand(title: "Quit", action: "quit", key: "q")
        ])
        for ch in "otr" { _ = p.handle(.char(ch)) }
        #expect(p.matches.map(\.action) == ["tab.train"])
        #expect(p.handle(KeyEvent(.enter)) == .run("tab.train"))
        var b = ScreenBuffer(width: 40, height: 10)
        p.render(into: &b, screen: b.bounds)
        assertSnapshot(b, "palette")
        var tiny = ScreenBuffer(width: 4, height: 2)
        p.render(into: &tiny, screen: tiny.bounds)
    }

    @Test func brailleAndProgress() {
        var c = BrailleCanvas(columns: 4, rows: 2)
        c.line(0, 7, 7, 0, .role(.lossTrain))
        var b = render(c, width: 4, height: 2)
        #expect(b.line(1) == "⡠⠊  ")
        ProgressBar(fraction: 0.55, label: "55%").render(into: &b, area: Rect(x: 0, y: 0, width: 4, height: 1))
        assertSnapshot(b, "braille-progress")
    }

    @Test func heatmapColoursOneValuePerCellOrShadesWithoutColour() {
        let values: [Float] = [0, 1, 0.5, 0.25, 1, 0]
        let h = Heatmap(values: values, rows: 3, columns: 2, range: 0...1)
        let b = render(h, width: 2, height: 2)
        #expect(b[0, 0]?.style.bg == .heat(0) && b[1, 0]?.style.bg == .heat(255))
        #expect(b[0, 1]?.style.bg == .heat(128) && b[1, 1]?.style.bg == .heat(64))
        let shaded = render(
            Heatmap(values: values, rows: 3, columns: 2, range: 0...1, shaded: true), width: 2, height: 3)
        #expect(shaded.lines == [" █", "▒░", "█ "])
        #expect(!shaded.snapshot.contains("heat"))
        _ = render(h, width: 0, height: 0)
    }

    @Test func modalCentres() {
        let m = Modal(title: "Help", lines: ["a line", "漢字"], width: 14)
        assertSnapshot(render(m, width: 18, height: 6), "modal")
        _ = render(m, width: 2, height: 2)
    }
}

/// A deterministic number format for table cells.
func format2(_ v: Double) -> String {
    let scaled = (v * 100).rounded() / 100
    return "\(scaled)"
}
