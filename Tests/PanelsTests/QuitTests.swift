import Testing

@testable import Panels

/// Quitting asks while any work runs and says what runs; every key bound to `global.quit`
/// quits (or confirms) wherever help lists it.
@Suite struct QuitTests {
    static let screen = Rect(x: 0, y: 0, width: 100, height: 30)

    func press(_ wb: inout Workbench, _ k: KeyEvent) -> EventResult {
        wb.handle(.key(k), screen: Self.screen) { _ in }
    }

    @Test func ctrlCDuringAnAnswerAsksAndNamesIt() {
        var wb = Workbench()
        wb.chat.model.beginTurn(prompt: "hi")
        #expect(press(&wb, .ctrl("c")) == .redraw)
        #expect(wb.overlay == .confirmQuit)
        var b = ScreenBuffer(width: 100, height: 30)
        wb.render(into: &b)
        #expect(b.lines.joined(separator: "\n").contains("Still running: an answer in Chat. Quit anyway?"))
        // The quit key again confirms.
        #expect(press(&wb, .ctrl("c")) == .quit)
    }

    @Test func everyKindOfRunningWorkIsNamed() {
        var wb = Workbench()
        #expect(wb.runningWork.isEmpty && press(&wb, .ctrl("q")) == .quit)
        wb.chat.model.beginComparison(leftTitle: "A", rightTitle: "B")
        wb.train.model = TrainViewModel.localRun(TrainRunRequest(), availableModels: [])
        wb.train.model.describeRun(name: "run-1", baseModel: "m", totalSteps: 120, adapterFolder: "/a")
        wb.bench.model.setActivity(BenchActivity(title: "judge all rubrics · m.gguf", line: "[1/50]"))
        wb.attention.model.setStatus(AttentionViewModel.capturingStatus)
        #expect(
            wb.runningWork == [
                "the split-view answers in Chat", "training run-1 (iteration 0 of 120)",
                "judge all rubrics · m.gguf in Bench", "an attention capture"
            ])
        #expect(press(&wb, .ctrl("q")) == .redraw && wb.overlay == .confirmQuit)
        #expect(press(&wb, .char("n")) == .redraw && wb.overlay == nil)
    }

    @Test func aCustomQuitKeyQuitsFromEveryPanelAndOverlay() throws {
        let keys = try KeyMap.builtin.overriding(with: "global.quit = ctrl-x", source: "keys")
        for panel in PanelID.allCases {
            var wb = Workbench(keys: keys)
            wb.selected = panel
            #expect(press(&wb, .ctrl("x")) == .quit, "\(panel)")
        }
        // Over help, the palette and a message box the chord still quits.
        for open in [KeyEvent(.function(1)), .ctrl("p")] {
            var wb = Workbench(keys: keys)
            _ = press(&wb, open)
            #expect(wb.overlay != nil)
            #expect(press(&wb, .ctrl("x")) == .quit)
        }
        var wb = Workbench(keys: keys)
        wb.showMessage(title: "Configuration problems", text: "keys:3: unknown key")
        #expect(press(&wb, .ctrl("x")) == .quit)
        // While training runs it asks, and the key again confirms; help lists the key.
        wb = Workbench(keys: keys)
        wb.train.model = TrainViewModel.localRun(TrainRunRequest(), availableModels: [])
        #expect(press(&wb, .ctrl("x")) == .redraw && wb.overlay == .confirmQuit)
        #expect(press(&wb, .ctrl("x")) == .quit)
        #expect(wb.helpLines.contains { $0.text.contains("ctrl-x") && $0.text.contains("quit") })
    }
}
