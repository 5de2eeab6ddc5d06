import Testing

@testable import Panels

@Suite struct FormTests {
    static func form() -> FormState {
        FormState(fields: [
            FormField("name", "name", "base"),
            FormField("mode", "mode", "b", .choice(["a", "b", "c"])),
            FormField("go", "go", "", .action)
        ])
    }

    @Test func choicesCycleTextEditsAndButtonsActivate() {
        var f = Self.form()
        #expect(f.handle(KeyEvent(.down)) == .moved)
        #expect(f.handle(KeyEvent(.right)) == .changed("mode"))
        #expect(f["mode"] == "c")
        #expect(f.handle(KeyEvent(.right)) == .changed("mode"))
        #expect(f["mode"] == "a")
        #expect(f.handle(KeyEvent(.left)) == .changed("mode"))
        #expect(f["mode"] == "c")
        _ = f.handle(KeyEvent(.up))
        #expect(f.handle(KeyEvent(.enter)) == .moved)
        #expect(f.editor?.text == "base")
        for k in [KeyEvent(.backspace), .char("X")] { _ = f.handle(k) }
        #expect(f["name"] == "base", "the value changes only when the edit is kept")
        #expect(f.handle(KeyEvent(.enter)) == .changed("name"))
        #expect(f["name"] == "basX")
        _ = f.handle(KeyEvent(.enter))
        _ = f.handle(.char("Z"))
        #expect(f.handle(KeyEvent(.escape)) == .moved)
        #expect(f["name"] == "basX" && f.editor == nil, "Esc drops an edit")
        _ = f.handle(KeyEvent(.down))
        _ = f.handle(KeyEvent(.down))
        _ = f.handle(KeyEvent(.down))
        #expect(f.selected == 2)
        #expect(f.handle(KeyEvent(.enter)) == .activated("go"))
        #expect(f.handle(KeyEvent(.escape)) == .close)
    }

    @Test func rendersLabelsChoicesButtonsAndTinyAreas() {
        var f = Self.form()
        f.selected = 1
        assertSnapshot(render(Form(f, labelWidth: 6), width: 24, height: 3), "form")
        _ = f.handle(KeyEvent(.up))
        _ = f.handle(KeyEvent(.enter))
        assertSnapshot(render(Form(f, labelWidth: 6), width: 24, height: 2), "form-editing")
        for (w, h) in PanelSnapshotTests.tinySizes { #expect(render(Form(f), width: w, height: h).width == w) }
        var empty = FormState(fields: [])
        #expect(empty.handle(KeyEvent(.enter)) == .ignored)
    }
}
