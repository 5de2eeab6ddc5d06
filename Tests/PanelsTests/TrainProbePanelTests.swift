import LEMCore
import Testing

@testable import Panels

/// Probe lines in the Train panel: parsed from the trainer's exact line format, plotted beside
/// the loss, summarised in the status strip, their answers opened with a key.
@Suite struct TrainProbePanelTests {
    /// Lines exactly as `TrainingEvent.probe(...).jsonLine` writes them (TrainingEventTests
    /// pins that format on the trainer side).
    static let probeLines = [
        #"{"answers":[{"answer":"I would\nstart with…","id":"P01","prompt":"Design an ID system.","score":3.5,"tokens":12},{"answer":"","id":"P11","prompt":"Q","score":-20.0,"tokens":0}],"event":"probe","score":-8.25,"scorer":"lek-heuristic","seconds":4.25,"step":0}"#,
        #"{"answers":[{"answer":"Honesty is a practice.","id":"P01","prompt":"Design an ID system.","score":6.0,"tokens":9},{"answer":"I feel the weight of it.","id":"P11","prompt":"Q","score":5.5,"tokens":10}],"event":"probe","score":5.75,"scorer":"lek-heuristic","seconds":3.0,"step":100}"#,
        #"{"answers":[],"error":"no adapter at /x","event":"probe","score":null,"scorer":"","seconds":0.5,"step":150}"#
    ]

    static func panel() -> TrainPanel {
        var m = PanelFixtures.train()
        let (events, issues) = TrainLogParser.parse(probeLines, source: "train-log.jsonl")
        #expect(issues.isEmpty)
        m.apply(events)
        return TrainPanel(model: m)
    }

    @Test func probeLinesBecomeProbes() {
        let (events, issues) = TrainLogParser.parse(
            Self.probeLines + [#"{"event":"probe","score":1}"#, #"{"event":"probe","step":3,"answers":[{"id":"x"}]}"#],
            source: "log")
        #expect(
            issues.map(\.description) == [
                "log:4: probe record needs 'step'", "log:5: probe answers[0] needs an 'answer' string"
            ])
        #expect(events.map(\.name) == ["probe", "probe", "probe"])
        var m = TrainViewModel()
        m.apply(events)
        #expect(m.probes.map(\.step) == [0, 100, 150])
        #expect(
            m.probes[0].answers == [
                ProbeReport.Answer(
                    id: "P01", prompt: "Design an ID system.", answer: "I would\nstart with…", score: 3.5, tokens: 12),
                ProbeReport.Answer(id: "P11", prompt: "Q", answer: "", score: -20, tokens: 0)
            ])
        #expect(m.probes[2].meanScore == nil && m.probes[2].error == "no adapter at /x")
        // The failed probe is not a point of the chart.
        #expect(m.probeScores == [LossPoint(step: 0, value: -8.25), LossPoint(step: 100, value: 5.75)])
        #expect(m.probes.last?.summary == "failed@150" && m.probes[1].summary == "5.75@100")
    }

    @Test func probeChartBesideTheLossAndAnswersViewer() {
        var p = Self.panel()
        let screen = renderPanel(p, width: 100, height: 26)
        assertSnapshot(screen, "train-probes-100x26")
        #expect(screen.snapshot.contains("Probe · lek-heuristic"))
        #expect(screen.snapshot.contains("probe failed@150"))
        // Narrow: no room beside the loss, the probe chart is left out (the status still says it).
        let narrow = renderPanel(p, width: 50, height: 20).snapshot
        #expect(!narrow.contains("Probe ·"))
        // p opens the newest probe; ← goes to the previous one; Esc closes.
        var (_, intents) = press(&p, [.char("p")])
        #expect(p.probeViewer == TrainPanel.ProbeViewer(index: 2))
        _ = press(&p, [KeyEvent(.left)])
        assertSnapshot(renderPanel(p, width: 80, height: 20), "train-probe-answers")
        #expect(renderPanel(p, width: 80, height: 20).snapshot.contains("I feel the weight of it."))
        (_, intents) = press(&p, [KeyEvent(.escape)])
        #expect(p.probeViewer == nil && intents.isEmpty)
        for (w, h) in PanelSnapshotTests.tinySizes {
            p.openProbeViewer()
            #expect(renderPanel(p, width: w, height: h).width == w)
        }
    }

    @Test func noProbesNoViewer() {
        var p = TrainPanel(model: PanelFixtures.train())
        _ = press(&p, [.char("p")])
        #expect(p.probeViewer == nil)
        #expect(!renderPanel(p, width: 100, height: 26).snapshot.contains("Probe ·"))
    }

    @Test func formDefaultsToChatsModel() {
        var p = TrainRunFormTests.panel()
        p.chatModelPath = "/m/gemma3"
        p.openForm()
        #expect(p.formRequest?.defaults["model"] == "/m/gemma3")
        // A model Chat loaded from elsewhere is offered first.
        p.chatModelPath = "/other/model.gguf"
        p.openForm()
        #expect(p.formRequest?.defaults["model"] == "/other/model.gguf")
        #expect(p.form?.fields[1].kind == .choice(["/other/model.gguf", "/m/smollm2.gguf", "/m/gemma3"]))
        // No chat model: the first installed one, as before.
        p.chatModelPath = nil
        p.openForm()
        #expect(p.formRequest?.defaults["model"] == "/m/smollm2.gguf")
    }

    @Test func workbenchPassesChatsModelAndChatWithCheckpointUsesTheRunsModel() {
        var wb = Workbench()
        wb.selected = .train
        wb.chat.model.modelPath = "/m/chat-model"
        wb.train.model = PanelFixtures.train()
        wb.train.model.baseModelPath = "/m/trained-on"
        var intents: [WorkbenchIntent] = []
        _ = wb.handle(.key(.char("n")), screen: Rect(x: 0, y: 0, width: 100, height: 30)) { intents.append($0) }
        #expect(wb.train.form?["model"] == "/m/chat-model")
        _ = wb.handle(.key(KeyEvent(.escape)), screen: Rect(x: 0, y: 0, width: 100, height: 30)) { intents.append($0) }
        _ = wb.handle(.key(.char("c")), screen: Rect(x: 0, y: 0, width: 100, height: 30)) { intents.append($0) }
        #expect(intents == [.chat(.useAdapter("adapters/100.safetensors", model: "/m/trained-on"))])
        #expect(wb.selected == .chat)
    }
}
