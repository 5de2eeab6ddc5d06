import Foundation
import LEMCore
import TestSupport
import Testing

@testable import LEMTrainer

/// mlx_lm's stdout read into training events, on output captured from real runs
/// (`Tests/Fixtures/trainer/mlx_lm_output`, from `Scripts/capture_mlx_lm_output.py`).
@Suite struct MLXLMProgressTests {
    static func captured(_ name: String) throws -> [String] {
        let url = TestPaths.fixture("trainer/mlx_lm_output/\(name).txt")
        return try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// Every event of `lines`, and the lines that are not progress.
    static func read(_ lines: [String], folder: String) -> (events: [TrainingEvent], other: [String]) {
        var progress = MLXLMProgress(adapterFolder: folder)
        var events: [TrainingEvent] = []
        var other: [String] = []
        for line in lines {
            if let e = progress.events(for: line) { events += e } else { other.append(line) }
        }
        return (events, other)
    }

    @Test func readsTheTableOfMLXLM032() throws {
        let (events, other) = Self.read(try Self.captured("mlx_lm-0.32.2"), folder: "/a")
        func train(_ step: Int, _ loss: Double, _ tps: Double, _ tokens: Int) -> TrainingEvent {
            .trainReport(.init(step: step, loss: loss, tokensPerSec: tps, trainedTokens: tokens))
        }
        #expect(
            events == [
                .validation(step: 0, valLoss: 7.211, valTime: 1.70), train(2, 7.159, 18, 100),
                .validation(step: 2, valLoss: 7.195, valTime: 1.60), train(4, 6.975, 30, 200),
                .saved(step: 4, path: "/a/0000004_adapters.safetensors"),
                .validation(step: 5, valLoss: 7.155, valTime: 1.35), train(6, 7.009, 65, 300)
            ])
        // The banner, the header row and the progress bar pass through.
        #expect(other.contains { $0.contains("Trainable parameters: 5.257%") })
        #expect(other.contains { MLXLMProgress.strippingEscapes($0).hasPrefix("train ███") })
        #expect(other.count == 15)
    }

    @Test func readsTheSentencesOfMLXLM028() throws {
        var progress = MLXLMProgress(adapterFolder: "/unused")
        var events: [TrainingEvent] = []
        for line in try Self.captured("mlx_lm-0.28.0") { events += progress.events(for: line) ?? [] }
        let folder = "/tmp/mlx-capture/mlx_lm-0.28.0"
        try #require(events.count == 9)
        #expect(events.first == .started(step: 0, totalSteps: 6))
        #expect(events[1] == .validation(step: 0, valLoss: 7.211, valTime: 1.420))
        func train(_ step: Int, _ loss: Double, _ itPerSec: Double, _ tps: Double, _ tokens: Int) -> TrainingEvent {
            .trainReport(
                .init(
                    step: step, loss: loss, lr: 1e-4, itPerSec: itPerSec, tokensPerSec: tps, trainedTokens: tokens,
                    peakMemMB: 0.004 * 1000))  // "Peak mem 0.004 GB"
        }
        #expect(events[2] == train(2, 7.161, 0.906, 41.242, 91))
        #expect(events[5] == .saved(step: 4, path: "\(folder)/0000004_adapters.safetensors"))
        #expect(events[7] == train(6, 7.044, 21.135, 961.654, 280))
        #expect(events[8] == .finished(step: 6, path: "\(folder)/adapters.safetensors"))
        #expect(progress.finished && progress.lastStep == 6)
    }

    @Test func otherLinesAreNotProgress() {
        var progress = MLXLMProgress(adapterFolder: "/a")
        for line in [
            "", "  iter   train_loss     tok/s     tokens", "Iter x: Train loss 1.0", "  save  notes.txt",
            "   3    val nan", "[WARNING] Some sequences are longer than 2048 tokens.",
            "Test loss 2.000, Test ppl 7.389."
        ] {
            #expect(progress.events(for: line) == nil, "\(line)")
        }
        #expect(MLXLMProgress.strippingEscapes("\u{1B}[1;32m7.159 ▼\u{1B}[0m x\u{1B}") == "7.159 ▼ x")
    }
}
