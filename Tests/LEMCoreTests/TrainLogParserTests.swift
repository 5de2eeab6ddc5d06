import Testing

@testable import LEMCore

@Suite("TrainLogParser")
struct TrainLogParserTests {
    static let events: [TrainingEvent] = [
        .started(step: 0, totalSteps: 100),
        .trainReport(
            .init(
                step: 10, loss: 2.3456, lr: 1e-05, itPerSec: 1.5, tokensPerSec: 321.25, trainedTokens: 4000,
                peakMemMB: 812.5, elapsed: 6.75)),
        .validation(step: 0, valLoss: 3.14, valTime: 0.5),
        .saved(step: 50, path: "/tmp/run/0000050_adapters.safetensors"),
        .best(step: 49, valLoss: 2.0, path: "/tmp/run/best/adapters.safetensors"),
        .probe(
            ProbeReport(
                step: 50, scorer: "lek-heuristic",
                answers: [
                    .init(id: "P01", prompt: "Is it right?", answer: "It depends \"on\" you.\n", score: 7.5, tokens: 12)
                ], seconds: 3.25)),
        .probe(ProbeReport(step: 60, scorer: "lek-heuristic", answers: [], seconds: 0.1, error: "no model")),
        .failed(step: 60, message: TrainingEvent.cancelledMessage),
        .finished(step: 100, path: "/tmp/run/adapters.safetensors"),
        .phase(step: 100, index: 1, name: "p1-composure"),
        .phaseEval(
            PhaseEvalReport(
                step: 0, phase: nil, name: "base", run: "gemma-3-270m", benchmark: "seeds", answers: 8,
                scores: [.init(scorer: "lek-heuristic", dimension: "lek_score", mean: 4.125, count: 8)])),
        .phaseEval(
            PhaseEvalReport(
                step: 160, phase: 1, name: "p1-composure", run: "p1-composure@0123456789ab", benchmark: "gsm8k",
                answers: 3,
                scores: [
                    .init(scorer: "gsm8k-lem", dimension: "correct", mean: 2.0 / 3, count: 3),
                    .init(scorer: "authority", dimension: nil, mean: nil, count: 0)
                ]))
    ]

    @Test("a phase's events move after the earlier phases' iterations; a start takes the curriculum's total")
    func shifted() {
        #expect(
            TrainingEvent.started(step: 0, totalSteps: 4).shifted(by: 10, totalSteps: 14)
                == .started(step: 10, totalSteps: 14))
        #expect(
            TrainingEvent.trainReport(.init(step: 3, loss: 1.5, lr: 1e-4)).shifted(by: 10, totalSteps: 14)
                == .trainReport(.init(step: 13, loss: 1.5, lr: 1e-4)))
        #expect(
            TrainingEvent.validation(step: 0, valLoss: 2, valTime: 1).shifted(by: 10, totalSteps: 14)
                == .validation(step: 10, valLoss: 2, valTime: 1))
        let probe = TrainingEvent.probe(ProbeReport(step: 4, scorer: "s", answers: [], seconds: 1))
        #expect(probe.shifted(by: 10, totalSteps: 14).step == 14)
        #expect(
            TrainingEvent.phase(step: 0, index: 0, name: "a").shifted(by: 3, totalSteps: 9)
                == .phase(step: 3, index: 0, name: "a"))
    }

    @Test("a phase line needs its index and name")
    func phaseLineNeedsIndexAndName() {
        let line = TrainLogParser.event(#"{"event": "phase", "step": 4, "name": "p1"}"#, source: "log", line: 3)
        #expect(
            line
                == .issue(
                    TrainLogIssue(
                        source: "log", line: 3, reason: "phase record needs 'step', 'index' (0 or more) and 'name'")))
        #expect(
            TrainingEvent.phase(step: 4, index: 1, name: "p1").jsonLine
                == #"{"event":"phase","index":1,"name":"p1","step":4}"#)
    }

    @Test("a phase evaluation line: its fields, the starting model without an index, a bad line named by file and line")
    func phaseEvalLines() throws {
        let base = PhaseEvalReport(
            step: 0, phase: nil, name: "base", run: "m", benchmark: "seeds", answers: 2,
            scores: [.init(scorer: "lek-heuristic", dimension: "lek_score", mean: nil, count: 0)])
        #expect(
            TrainingEvent.phaseEval(base).jsonLine
                == #"{"answers":2,"benchmark":"seeds","event":"phase_eval","name":"base","run":"m","scores":"#
                + #"[{"count":0,"dimension":"lek_score","mean":null,"scorer":"lek-heuristic"}],"step":0}"#)
        var phase = base
        phase.phase = 2
        phase.step = 40
        #expect(TrainingEvent.phaseEval(phase).jsonLine.contains(#""index":2,"#))
        #expect(TrainingEvent.phaseEval(phase).shifted(by: 5, totalSteps: 50).step == 45)
        let bad: [(String, String)] = [
            (#"{"event": "phase_eval", "name": "p0", "scores": []}"#, "phase_eval record needs 'step'"),
            (#"{"event": "phase_eval", "step": 3, "scores": []}"#, "phase_eval record: needs a 'name' string"),
            (#"{"event": "phase_eval", "step": 3, "name": "p0"}"#, "phase_eval record: needs a 'scores' list"),
            (
                #"{"event": "phase_eval", "step": 3, "name": "p0", "index": -1, "scores": []}"#,
                "phase_eval record: 'index' must be a whole number, 0 or more"
            ),
            (
                #"{"event": "phase_eval", "step": 3, "name": "p0", "scores": [{"scorer": "lek-heuristic"}]}"#,
                "phase_eval record: scores[0] needs a 'scorer' string and a 'count' (0 or more)"
            ),
            (
                #"{"event": "phase_eval", "step": 3, "name": "p0", "#
                    + #""scores": [{"scorer": "s", "count": 1, "mean": "x"}]}"#,
                "phase_eval record: scores[0].mean must be a number or null"
            )
        ]
        let (events, issues) = TrainLogParser.parse(bad.map(\.0), source: "out/train-log.jsonl", firstLine: 7)
        #expect(events.isEmpty)
        #expect(
            issues.map(\.description)
                == bad.enumerated().map { "out/train-log.jsonl:\($0.offset + 7): \($0.element.1)" })
        #expect(throws: TrainLogIssue(source: "x.jsonl", line: 4, reason: bad[2].1)) {
            try TrainingEvent(jsonLine: bad[2].0, source: "x.jsonl", line: 4)
        }
    }

    @Test("every event lem writes reads back as itself")
    func roundTrip() throws {
        for event in Self.events {
            #expect(try TrainingEvent(jsonLine: event.jsonLine) == event, "\(event.jsonLine)")
        }
        let (parsed, issues) = TrainLogParser.parse(Self.events.map(\.jsonLine), source: "log")
        #expect(parsed == Self.events)
        #expect(issues.isEmpty)
    }

    @Test("a diverged loss is written as null and read back as NaN with a warning")
    func nonFinite() throws {
        let line = TrainingEvent.trainReport(.init(step: 3, loss: .nan, lr: 1e-4)).jsonLine
        #expect(line.contains(#""loss":null"#))
        let (events, issues) = TrainLogParser.parse([line], source: "log")
        guard case .trainReport(let r) = events.first else {
            Issue.record("no report")
            return
        }
        #expect(r.loss.isNaN)
        #expect(issues.map(\.description) == ["log:1: loss is not finite"])
    }

    @Test("other tools' logs: aliases, numeric strings, inferred kinds, skipped kinds")
    func foreign() {
        let lines = [
            #"{"iter": 5, "train_loss": "1.5", "learning_rate": 0.001, "peak_memory_gb": 2, "time": 12}"#,
            #"{"iteration": 5, "val_loss": 1.75}"#,
            #"{"type": "start", "iters": 200}"#,
            #"{"type": "checkpoint_upload", "step": 3}"#,
            "",
            #"{"type": "end", "step": 200}"#
        ]
        let (events, issues) = TrainLogParser.parse(lines, source: "foreign")
        #expect(issues.isEmpty)
        #expect(
            events == [
                .trainReport(.init(step: 5, loss: 1.5, lr: 0.001, peakMemMB: 2048, elapsed: 12)),
                .validation(step: 5, valLoss: 1.75, valTime: nil),
                .started(step: 0, totalSteps: 200),
                .finished(step: 200, path: "")
            ])
    }

    @Test("a bad line is an issue naming the source and line; reading continues")
    func issues() throws {
        let lines = [
            "not json", #"{"type": "train", "step": 1}"#, #"{"step": 2}"#, #"{"event": "train", "step": 3, "loss": 1}"#
        ]
        let (events, issues) = TrainLogParser.parse(lines, source: "run/train-log.jsonl", firstLine: 10)
        #expect(events.count == 1)
        #expect(issues.map(\.line) == [10, 11, 12])
        #expect(issues[0].description.hasPrefix("run/train-log.jsonl:10: expected a JSON object"))
        #expect(issues[1].reason == "train record needs 'step' and 'loss'")
        #expect(throws: TrainLogIssue.self) { try TrainingEvent(jsonLine: "{}", source: "x", line: 4) }
    }

    @Test("a growing file is split into complete lines, the partial one kept")
    func completeLines() {
        var pending = ""
        #expect(TrainLogParser.completeLines(appending: "{\"a\":1}\n{\"b\"", pending: &pending) == ["{\"a\":1}"])
        #expect(pending == "{\"b\"")
        #expect(TrainLogParser.completeLines(appending: ":2}\n", pending: &pending) == ["{\"b\":2}"])
        #expect(pending.isEmpty)
    }
}
