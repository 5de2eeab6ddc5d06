import LEMCore
import Testing

@testable import Panels

/// What the Train panel tells while a run goes: validations, the checkpoint [ and ] pick, the
/// learning-rate chart's labels, and a point from the first reported step.
@Suite struct TrainFeedbackTests {
    func text(_ p: TrainPanel, _ width: Int = 80, _ height: Int = 26) -> String {
        renderPanel(p, width: width, height: height).lines.joined(separator: "\n")
    }

    @Test func aValidationInProgressIsShown() {
        var m = TrainViewModel(runName: "r")
        m.apply([.started(step: 0, totalSteps: 10), .validating(step: 0)])
        m.setStatus("training on 8 examples, 2 validation…")
        #expect(m.isValidating)
        #expect(text(TrainPanel(model: m)).contains("validating at iteration 0…"))
        m.apply([.validation(step: 0, valLoss: 2.5, valTime: 1)])
        #expect(!m.isValidating && !text(TrainPanel(model: m)).contains("validating"))
    }

    @Test func bracketsVisiblySelectACheckpointEvenWhileAStatusShows() {
        var m = PanelFixtures.train()
        m.apply([.saved(step: 150, path: "adapters/0000150_adapters.safetensors")])
        m.setStatus("probing the checkpoint at iteration 150 (5 prompts)…")
        var p = TrainPanel(model: m)
        #expect(!text(p).contains("◀ checkpoint"))
        _ = press(&p, [.char("[")])
        let shown = text(p)
        #expect(shown.contains("◀ checkpoint 1/2 @100 ▶ adapters/100.safetensors"), "\(shown)")
        _ = press(&p, [.char("]")])
        #expect(text(p).contains("◀ checkpoint 2/2 @150 ▶"))
        #expect(p.hints(keys: .builtin).contains(KeyHint("[]", "checkpoint")))
    }

    @Test func aStoppedRunShowsNoETA() {
        var m = PanelFixtures.train()
        #expect(m.isRunning && text(TrainPanel(model: m)).contains("ETA 50s"))
        m.apply([.failed(step: 100, message: TrainingEvent.cancelledMessage)])
        #expect(!text(TrainPanel(model: m)).contains("ETA"))
    }

    @Test func aConstantLearningRateIsLabelledWithItsValueNotPlusMinusAHalf() {
        var m = TrainViewModel(runName: "r")
        m.apply([.started(step: 0, totalSteps: 3)] + (1...3).map { .trainReport(.init(step: $0, loss: 2, lr: 1e-5)) })
        let shown = text(TrainPanel(model: m))
        #expect(shown.contains("1.0e-5") && !shown.contains("0.5000") && !shown.contains("-0.5"), "\(shown)")
        // The first reported step already puts a point on the loss chart.
        var first = TrainViewModel(runName: "r")
        first.apply([.started(step: 0, totalSteps: 100), .trainReport(.init(step: 1, loss: 3.2, lr: 1e-5))])
        #expect(!text(TrainPanel(model: first)).contains("no data yet"))
    }
}
