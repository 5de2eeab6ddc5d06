import LEMCore
import Testing

@testable import Panels

/// A curriculum's phase table on the Train panel: per phase its iterations, last train and
/// validation loss and its evaluation scores, the starting model's scores above phase 1, the
/// phase names still on the chart.
@Suite struct TrainPhaseTableTests {
    static let names = ["p0-ethics", "p1-composure", "p2-reasoning"]

    /// One evaluation report of `name` (phase `phase`, nil: the starting model).
    static func report(_ phase: Int?, _ name: String, lek: Double?, gsm8k: Double? = nil) -> PhaseEvalReport {
        var scores = [PhaseEvalReport.Score(scorer: "lek-heuristic", dimension: "lek_score", mean: lek, count: 8)]
        if let gsm8k {
            scores += ["gsm8k-lem", "gsm8k-strict"].map {
                PhaseEvalReport.Score(scorer: $0, dimension: "correct", mean: gsm8k, count: 8)
            }
        }
        return PhaseEvalReport(
            step: phase.map { ($0 + 1) * 10 } ?? 0, phase: phase, name: name, run: "\(name)@0123456789ab",
            benchmark: "seeds", answers: 8, scores: scores)
    }

    /// Three phases of 10 iterations: a loss report every step, a validation at each phase's
    /// start (the weights it starts from, above the phase's last one) and at its ninth step, then
    /// the evaluations.
    static func curriculum(evaluated: Bool = true) -> TrainViewModel {
        var m = TrainViewModel(runName: "lek-curriculum")
        for (index, name) in names.enumerated() {
            let start = index * 10
            m.apply([
                .phase(step: start, index: index, name: name), .started(step: start, totalSteps: 30),
                .validation(step: start, valLoss: 3.1 - Double(index) / 2, valTime: nil)
            ])
            for step in (start + 1)...(start + 10) {
                m.apply([.trainReport(.init(step: step, loss: 3 - Double(step) / 15))])
                if step == start + 9 {
                    m.apply([.validation(step: step, valLoss: 3 - Double(index) / 2, valTime: nil)])
                }
            }
            m.apply([.finished(step: start + 10, path: "out/\(name)/adapters.safetensors")])
        }
        guard evaluated else { return m }
        m.apply([
            .phaseEval(report(nil, "base", lek: 4.125, gsm8k: 0.25)), .phaseEval(report(0, names[0], lek: 5.5)),
            .phaseEval(report(1, names[1], lek: 6.25, gsm8k: 0.5)), .phaseEval(report(2, names[2], lek: nil))
        ])
        return m
    }

    @Test func eachPhaseHasItsIterationsLastLossesAndScores() {
        let rows = Self.curriculum().phaseRows
        #expect(rows.map(\.name) == ["base"] + Self.names)
        #expect(rows.map(\.phase) == [nil, 0, 1, 2])
        #expect(rows.map(\.iterations) == [nil, 10, 10, 10])
        // The last report of each phase: steps 10, 20, 30.
        let lastReports: [Double?] = [nil] + [10.0, 20, 30].map { 3 - $0 / 15 }
        #expect(rows.map(\.trainLoss) == lastReports)
        // The phase's own last validation, not the next phase's first (at the boundary step).
        let lastValidations: [Double?] = [nil, 3, 2.5, 2]
        #expect(rows.map(\.validationLoss) == lastValidations)
        let lek: [Double?] = [4.125, 5.5, 6.25, nil]
        #expect(rows.map { $0.evaluation?.scores.first?.mean } == lek)
        let columns = Self.curriculum().phaseScoreColumns
        #expect(columns.map(\.scorer) == ["lek-heuristic", "gsm8k-lem", "gsm8k-strict"])
        #expect(TrainPanel.scoreTitles(columns) == ["lek_score", "gsm8k-lem", "gsm8k-strict"])
    }

    @Test func aPhaseRunningShowsItsRowBeforeItsEvaluation() {
        var m = TrainViewModel(runName: "cur")
        m.apply([
            .phase(step: 0, index: 0, name: "a"), .started(step: 0, totalSteps: 12),
            .trainReport(.init(step: 1, loss: 2)), .phase(step: 4, index: 1, name: "b"),
            .trainReport(.init(step: 5, loss: 1.5))
        ])
        let rows = m.phaseRows
        #expect(rows.map(\.name) == ["a", "b"])
        #expect(rows.map(\.iterations) == [4, 8])
        #expect(rows.map(\.trainLoss) == [2, 1.5])
        #expect(rows.allSatisfy { $0.evaluation == nil && $0.validationLoss == nil })
        let text = renderPanel(TrainPanel(model: m), width: 90, height: 26).lines.joined(separator: "\n")
        #expect(text.contains("Phases"), "\(text)")
        #expect(text.contains("2 b"), "\(text)")
    }

    @Test func aNewerEvaluationReplacesTheOlderAndARestartedPhaseDropsLaterOnes() {
        var m = Self.curriculum()
        m.apply([.phaseEval(Self.report(0, Self.names[0], lek: 7))])
        #expect(m.phaseEvals.filter { $0.phase == 0 }.map { $0.scores[0].mean } == [7])
        #expect(m.phaseEvals.count == 4)
        // A resumed curriculum starts phase 2 again: its evaluation and phase 3's are stale.
        m.apply([.phase(step: 10, index: 1, name: Self.names[1])])
        #expect(m.phaseEvals.map(\.phase) == [nil, 0])
        #expect(m.phaseRows.map(\.name) == ["base", "p0-ethics", "p1-composure"])
    }

    @Test func theTableSitsUnderTheChartWithThePhaseNamesStillOnIt() {
        let buffer = renderPanel(TrainPanel(model: Self.curriculum()), width: 100, height: 30)
        assertSnapshot(buffer, "train-phases-100x30")
        let shown = buffer.lines
        let text = shown.joined(separator: "\n")
        #expect(text.contains("2 p1-composure") && text.contains("3 p2-reasoning"), "\(text)")
        guard let header = shown.firstIndex(where: { $0.contains("phase ") && $0.contains("lek_score") }) else {
            Issue.record("no phase table: \(text)")
            return
        }
        let rows = shown[(header + 1)...].prefix(4).map { $0.split(separator: " ").joined(separator: " ") }
        #expect(rows[0].contains("base — — — 4.125 0.250 0.250"), "\(rows[0])")
        #expect(rows[1].contains("1 p0-ethics 10 2.333 3.000 5.500 — —"), "\(rows[1])")
        #expect(rows[2].contains("2 p1-composure 10 1.667 2.500 6.250 0.500 0.500"), "\(rows[2])")
        #expect(rows[3].contains("3 p2-reasoning 10 1.000 2.000 — — —"), "\(rows[3])")
        #expect(shown.contains { $0.contains("Phases") && $0.contains("eval on seeds") })
        // The loss chart keeps its phase boundaries above the table.
        #expect(shown.firstIndex { $0.contains("2 p1-composure") && $0.contains("3 p2-reasoning") } ?? header < header)
    }

    @Test func smallScreensGiveTheTableRoomOrLeaveItOut() {
        // 24 rows: the learning-rate chart gives way to the whole table.
        let small = renderPanel(TrainPanel(model: Self.curriculum()), width: 80, height: 24).lines
        #expect(!small.joined().contains("Learning rate"))
        #expect(small.contains { $0.contains("│ base") && $0.contains("4.125") }, "\(small.joined(separator: "\n"))")
        // 17 rows: two rows fit, the newest ones.
        let short = renderPanel(TrainPanel(model: Self.curriculum()), width: 80, height: 17).lines
        #expect(short.contains { $0.contains("3 p2-reasoning") }, "\(short.joined(separator: "\n"))")
        #expect(!short.contains { $0.contains("│ base") }, "\(short.joined(separator: "\n"))")
        // 14 rows: no room for a table beside an 8-row chart.
        let tiny = renderPanel(TrainPanel(model: Self.curriculum()), width: 80, height: 14).lines
        #expect(!tiny.joined().contains("Phases"))
        #expect(TrainPanel.phaseTableHeight(rows: 4, available: 30) == 7)
        #expect(TrainPanel.phaseTableHeight(rows: 4, available: 13) == 5)
        #expect(TrainPanel.phaseTableHeight(rows: 4, available: 11) == 0)
        #expect(TrainPanel.phaseTableHeight(rows: 0, available: 40) == 0)
        for (w, h) in [(0, 0), (3, 2), (12, 5), (30, 16)] {
            _ = renderPanel(TrainPanel(model: Self.curriculum()), width: w, height: h)
        }
        // A single run has no table.
        #expect(
            !renderPanel(TrainPanel(model: PanelFixtures.train()), width: 80, height: 40).lines.joined()
                .contains("Phases"))
    }
}
