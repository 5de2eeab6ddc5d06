import Foundation
import Testing

@testable import LEMTrainer

/// The train-log.jsonl event lines: field names, round trip, bad lines.
@Suite struct TrainingEventTests {
    let events: [TrainingEvent] = [
        .validation(step: 0, valLoss: 3.25, valTime: 1.5),
        .trainReport(.init(step: 10, loss: 2.5, lr: 1e-5, itPerSec: 0.5, tokensPerSec: 120.25, trainedTokens: 2405, peakMemMB: 812)),
        .saved(step: 100, path: "adapters/0000100_adapters.safetensors"),
        .finished(step: 600, path: "adapters/adapters.safetensors"),
        .failed(step: 3, message: "train.jsonl:7: not valid JSON"),
    ]

    @Test func lineFormat() {
        #expect(events[0].jsonLine == #"{"event":"validation","step":0,"val_loss":3.25,"val_time":1.5}"#)
        #expect(events[1].jsonLine.contains(#""it_per_sec":0.5"#))
        #expect(events[1].jsonLine.contains(#""peak_mem_mb":812.0"#))
        #expect(events[1].jsonLine.contains(#""trained_tokens":2405"#))
        #expect(events[2].jsonLine == #"{"event":"saved","path":"adapters/0000100_adapters.safetensors","step":100}"#)
    }

    @Test func logRoundTrip() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lem-log-\(UUID().uuidString)/train-log.jsonl")
        let log = try TrainLog(url: url)
        for event in events { try log.append(event) }
        #expect(try TrainLog.read(url) == events)
        try (String(contentsOf: url, encoding: .utf8) + "{\"event\": \"train\"}\n").write(to: url, atomically: true, encoding: .utf8)
        #expect(throws: DatasetError.badLine(file: url.path, line: 6, reason: "missing number 'step'")) { try TrainLog.read(url) }
    }
}
