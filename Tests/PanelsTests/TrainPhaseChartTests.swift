import Foundation
import LEMCore
import Testing

@testable import Panels

/// A curriculum's phases on the Train panel: a dotted line where each phase begins on the loss
/// chart, labelled with its number and name, and the current phase in the status strip.
@Suite struct TrainPhaseChartTests {
    /// A three-phase curriculum log: phases at steps 0, 10 and 20, a loss report every step.
    func curriculum(upTo last: Int = 30) -> TrainViewModel {
        var m = TrainViewModel(runName: "cur")
        let names = ["p0-ethics", "p1-composure", "p2-reasoning"]
        for (index, name) in names.enumerated() where index * 10 < last {
            m.apply([.phase(step: index * 10, index: index, name: name), .started(step: index * 10, totalSteps: 30)])
            for step in (index * 10 + 1)...min(last, index * 10 + 10) {
                m.apply([.trainReport(.init(step: step, loss: 3 - Double(step) / 15))])
            }
        }
        return m
    }

    func lines(_ m: TrainViewModel, _ width: Int = 100, _ height: Int = 24) -> [String] {
        renderPanel(TrainPanel(model: m), width: width, height: height).lines
    }

    @Test func eachPhaseBeginsWithADottedLineAndItsName() {
        let shown = lines(curriculum())
        let text = shown.joined(separator: "\n")
        #expect(text.contains("┊2 p1-composure"), "\(text)")
        #expect(text.contains("┊3 p2-reasoning"), "\(text)")
        // Phase 1 began before the first loss: it is named at the chart's left edge.
        #expect(shown.contains { $0.contains("│1 p0-ethics") }, "\(text)")
        // The line runs down the chart: the boundary's column holds ┊ on several rows.
        let rows = shown.filter { $0.contains("┊") }
        #expect(rows.count >= 5, "\(text)")
        #expect(shown.joined().contains("phase 3 p2-reasoning"))
    }

    @Test func theBoundariesSitAtTheirStepsOnTheXAxis() {
        let shown = lines(curriculum())
        guard let labelRow = shown.first(where: { $0.contains("2 p1-composure") }),
            let axis = shown.first(where: { $0.contains("└") }),
            let p1 = labelRow.range(of: "┊2 p1-composure"), let p2 = labelRow.range(of: "┊3 p2-reasoning"),
            let start = axis.firstIndex(of: "└"), let end = axis.range(of: "30", options: .backwards)
        else {
            Issue.record("no labelled boundaries: \(shown.joined(separator: "\n"))")
            return
        }
        // The losses span steps 1…30 (the axis labels): step 10 is 9/29 of the way, step 20 19/29.
        #expect(axis.contains("└1─") && axis.contains("─30"))
        let x0 = axis.distance(from: axis.startIndex, to: start) + 1
        let width = axis.distance(from: axis.startIndex, to: end.upperBound) - x0
        let x1 = labelRow.distance(from: labelRow.startIndex, to: p1.lowerBound)
        let x2 = labelRow.distance(from: labelRow.startIndex, to: p2.lowerBound)
        let want1 = x0 + Int(Double(width) * 9 / 29)
        let want2 = x0 + Int(Double(width) * 19 / 29)
        #expect(abs(x1 - want1) <= 1, "p1 at column \(x1), expected \(want1) (plot from \(x0), width \(width))")
        #expect(abs(x2 - want2) <= 1, "p2 at column \(x2), expected \(want2) (plot from \(x0), width \(width))")
    }

    @Test func aResumedPhaseReplacesItsMarkAndTheOnesAfter() {
        var m = curriculum(upTo: 15)
        #expect(m.phases.map(\.name) == ["p0-ethics", "p1-composure"])
        m.apply([.phase(step: 10, index: 1, name: "p1-composure")])
        #expect(
            m.phases == [
                TrainPhaseMark(step: 0, index: 0, name: "p0-ethics"), .init(step: 10, index: 1, name: "p1-composure")
            ])
    }

    @Test func aSingleRunHasNoBoundariesAndTinyAreasDoNotTrap() {
        var m = TrainViewModel(runName: "r")
        m.apply([.started(step: 0, totalSteps: 5), .trainReport(.init(step: 1, loss: 2))])
        #expect(!lines(m).joined().contains("┊"))
        for (w, h) in [(0, 0), (3, 2), (12, 5)] { _ = lines(curriculum(), w, h) }
    }
}
