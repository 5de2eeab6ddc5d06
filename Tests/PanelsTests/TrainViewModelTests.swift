import LEMCore
import Testing

@testable import Panels

/// The Train panel's model folding training events (parsing is `LEMCore.TrainLogParser`'s, tested there).
@Suite struct TrainViewModelTests {
    @Test func foldsEventsOfAForeignLog() {
        let lines = [
            #"{"type": "start", "total_steps": 100}"#,
            #"{"type": "train", "step": 10, "loss": 2.5, "lr": 1e-4, "tokens_per_sec": 1500, "trained_tokens": 5120, "peak_memory_gb": 1.25, "elapsed": 5}"#,
            #"{"iter": 20, "train_loss": "2.25", "learning_rate": 2e-4}"#,
            #"{"step": 20, "val_loss": 2.4}"#,
            "",
            #"{"type": "saved", "step": 20, "path": "adapters/0000020.safetensors"}"#,
            #"{"type": "eval_extra", "step": 20}"#
        ]
        let (events, issues) = TrainLogParser.parse(lines, source: "log")
        #expect(issues.isEmpty)
        #expect(events.map(\.name) == ["started", "train", "train", "validation", "saved"])
        var m = TrainViewModel()
        m.apply(events)
        #expect(m.learningRate == [LossPoint(step: 10, value: 1e-4), LossPoint(step: 20, value: 2e-4)])
        #expect(m.tokensPerSecond == 1500 && m.peakMemoryGB == 1.25 && m.trainedTokens == 5120)
        #expect(m.trainLoss == [LossPoint(step: 10, value: 2.5), LossPoint(step: 20, value: 2.25)])
        #expect(m.validationLoss.count == 1 && m.bestValidation?.step == 20)
        #expect(m.totalSteps == 100 && m.step == 20 && m.checkpointPaths == ["adapters/0000020.safetensors"])
        #expect(m.eta == 40)  // 5 s after 10 steps → 0.5 s/step, 80 steps left
    }

    @Test func aStoppedRunIsNoLongerRunning() {
        var m = TrainViewModel()
        m.apply([.started(step: 0, totalSteps: 20), .trainReport(.init(step: 5, loss: 2, elapsed: 1))])
        #expect(m.isRunning && m.totalSteps == 20 && m.elapsedStep == 5)
        m.apply([.failed(step: 6, message: TrainingEvent.cancelledMessage)])
        #expect(!m.isRunning)
    }

    @Test func emaMatchesTheBiasCorrectedFormula() {
        let pts = [LossPoint(step: 1, value: 4), LossPoint(step: 2, value: 2), LossPoint(step: 3, value: 3)]
        let s = TrainViewModel.ema(pts, alpha: 0.5).map(\.value)
        // Raw sums 2, 2, 2.5 over bias weights 0.5, 0.75, 0.875.
        #expect(abs(s[0] - 4) < 1e-12)
        #expect(abs(s[1] - (0.5 * 2 + 0.5 * 2) / 0.75) < 1e-12)
        #expect(abs(s[2] - (0.5 * 2 + 0.5 * 3) / 0.875) < 1e-12)
        #expect(TrainViewModel.ema(pts, alpha: 0) == pts)
    }
}
