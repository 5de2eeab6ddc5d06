import Foundation
import Testing

@testable import LEMCore
@testable import LEMTrainer

/// The trainer's train-log.jsonl: the event lines it writes and the file it appends to and reads
/// back (the record and its parser are LEMCore's, tested there too).
@Suite struct TrainingEventTests {
    let events: [TrainingEvent] = [
        .validation(step: 0, valLoss: 3.25, valTime: 1.5),
        .trainReport(
            .init(
                step: 10, loss: 2.5, lr: 1e-5, itPerSec: 0.5, tokensPerSec: 120.25, trainedTokens: 2405, peakMemMB: 812)
        ),
        .saved(step: 100, path: "adapters/0000100_adapters.safetensors"),
        .finished(step: 600, path: "adapters/adapters.safetensors"),
        .failed(step: 3, message: "train.jsonl:7: not valid JSON"),
        .probe(
            ProbeReport(
                step: 200, scorer: "lek-heuristic",
                answers: [
                    .init(
                        id: "P01", prompt: "Design an ID \"system\".", answer: "I would\nstart with…", score: 3.5,
                        tokens: 12),
                    .init(id: "P11", prompt: "Q", answer: "", score: -20, tokens: 0)
                ], seconds: 4.25)),
        .probe(ProbeReport(step: 0, scorer: "", answers: [], seconds: 0.5, error: "no adapter at /x"))
    ]

    @Test func lineFormat() {
        #expect(events[0].jsonLine == #"{"event":"validation","step":0,"val_loss":3.25,"val_time":1.5}"#)
        #expect(events[1].jsonLine.contains(#""it_per_sec":0.5"#))
        #expect(events[1].jsonLine.contains(#""peak_mem_mb":812"#))
        #expect(events[1].jsonLine.contains(#""trained_tokens":2405"#))
        #expect(events[2].jsonLine == #"{"event":"saved","path":"adapters/0000100_adapters.safetensors","step":100}"#)
        #expect(
            events[5].jsonLine
                == #"{"answers":[{"answer":"I would\nstart with…","id":"P01","prompt":"Design an ID \"system\".","score":3.5,"tokens":12},{"answer":"","id":"P11","prompt":"Q","score":-20,"tokens":0}],"event":"probe","score":-8.25,"scorer":"lek-heuristic","seconds":4.25,"step":200}"#
        )
        // A failed probe has no mean (null) and carries its error.
        #expect(
            events[6].jsonLine
                == #"{"answers":[],"error":"no adapter at /x","event":"probe","score":null,"scorer":"","seconds":0.5,"step":0}"#
        )
    }

    @Test func badProbeLinesNameTheProblem() {
        #expect(throws: TrainLogIssue(source: "log", line: 3, reason: "probe record needs 'step'")) {
            try TrainingEvent(jsonLine: #"{"event":"probe","scorer":"s","seconds":1}"#, source: "log", line: 3)
        }
        #expect(throws: TrainLogIssue(source: "log", line: 1, reason: "probe answers[0] needs an 'answer' string")) {
            try TrainingEvent(
                jsonLine: #"{"event":"probe","step":1,"scorer":"s","seconds":1,"answers":[{"id":"P1"}]}"#, source: "log"
            )
        }
    }

    @Test func logRoundTrip() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "lem-log-\(UUID().uuidString)/train-log.jsonl")
        let log = try TrainLog(url: url)
        for event in events { try log.append(event) }
        #expect(try TrainLog.read(url) == events)
        try (String(contentsOf: url, encoding: .utf8) + "{\"event\": \"train\"}\n").write(
            to: url, atomically: true, encoding: .utf8)
        #expect(
            throws: DatasetError.badLine(
                file: url.path, line: events.count + 1, reason: "train record needs 'step' and 'loss'")
        ) { try TrainLog.read(url) }
    }
}
