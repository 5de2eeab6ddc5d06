import LEMCore

/// The probe chart beside the loss and the probe answers viewer of the Train panel.
extension TrainPanel {
    /// Which probe the answers viewer shows and how far it is scrolled.
    public struct ProbeViewer: Hashable, Sendable {
        /// An index into `model.probes`.
        public var index: Int
        public var offset: Int

        /// Shows probe `index` from its top line (or `offset`).
        public init(index: Int, offset: Int = 0) {
            self.index = index
            self.offset = offset
        }
    }

    /// The probe chart's width when the loss area is `width` wide: a third, at least 24
    /// columns; 0 when there is no probe or the loss chart would get too narrow.
    static func probeChartWidth(_ width: Int, hasProbes: Bool) -> Int {
        guard hasProbes, width >= 60 else { return 0 }
        return max(24, width / 3)
    }

    /// The probe score chart: each probe's mean score at its step, the last value in the title.
    func renderProbeChart(into buffer: inout ScreenBuffer, area: Rect) {
        let scorer = model.probes.last { $0.scorer?.isEmpty == false }?.scorer ?? "score"
        let block = Block(title: "Probe · \(scorer)", rightTitle: model.probes.last.map { $0.summary } ?? "")
        block.render(into: &buffer, area: area)
        let points = model.probeScores
        let markers = points.last.map { [ChartMarker($0, glyph: "●", color: .role(.probeScoreRole))] } ?? []
        LineChart(
            series: [ChartSeries(points, .role(.probeScoreRole))], markers: markers, stepRange: stepRange, labelWidth: 6
        )
        .render(into: &buffer, area: block.inner(area))
    }

    /// Opens the answers of the newest probe (nothing when the run has none).
    public mutating func openProbeViewer() {
        guard !model.probes.isEmpty else { return }
        probeViewer = ProbeViewer(index: model.probes.count - 1)
    }

    /// The viewer's lines for a probe at `width` columns: a summary, then each prompt, its
    /// score and its answer, wrapped.
    func probeLines(_ probe: ProbeReport, width: Int) -> [StyledLine] {
        var lines: [StyledLine] = []
        var head = StyledLine("step \(probe.step)", .role(.text, .bold))
        head.append("  mean " + (probe.meanScore.map { Fmt.fixed($0, 2) } ?? "—"), .role(.success))
        head.append("  \(probe.answers.count) answers", .role(.textDim))
        if let s = probe.seconds { head.append(" in " + Fmt.duration(s), .role(.textDim)) }
        lines.append(head)
        if let error = probe.error {
            lines += StyledLine("probe: " + error, .role(.warning)).wrapped(to: width, indent: 2)
        }
        for a in probe.answers {
            lines.append("")
            var title = StyledLine(a.id, .role(.accent, .bold))
            title.append("  score " + (a.score.map { Fmt.fixed($0, 2) } ?? "—"), .role(.success))
            if let t = a.tokens { title.append("  \(t) tokens", .role(.textDim)) }
            lines.append(title)
            lines += StyledLine(a.prompt, .role(.info)).wrapped(to: width, indent: 2)
            for paragraph in a.answer.split(separator: "\n", omittingEmptySubsequences: false) {
                lines += StyledLine(String(paragraph), .role(.text)).wrapped(to: width, indent: 0)
            }
        }
        return lines
    }

    /// The last useful scroll offset of probe `index` (its line count at a typical width).
    func maxProbeOffset(_ index: Int) -> Int {
        guard model.probes.indices.contains(index) else { return 0 }
        return max(0, probeLines(model.probes[index], width: 80).count - 5)
    }

    func renderProbeViewer(_ viewer: ProbeViewer, into buffer: inout ScreenBuffer, area: Rect) {
        guard model.probes.indices.contains(viewer.index) else { return }
        let box = area.centered(width: min(100, area.width - 2), height: area.height - 2)
        guard box.width >= 12, box.height >= 3 else { return }
        let probe = model.probes[viewer.index]
        let block = Block(
            title: "Probe answers \(viewer.index + 1)/\(model.probes.count)",
            rightTitle: "←→ probe  ↑↓ scroll  Esc close", focused: true, background: .role(.modalBackground))
        block.render(into: &buffer, area: box)
        let inner = block.inner(box).inset(horizontal: 1, vertical: 0)
        TextView(probeLines(probe, width: max(1, inner.width - 1)), offset: viewer.offset).render(
            into: &buffer, area: inner)
    }

    mutating func handleProbeViewer(_ k: KeyEvent) -> EventResult {
        guard var v = probeViewer else { return .ignored }
        switch k.key {
        case .escape, .enter, .char("q"), .char("p"):
            probeViewer = nil
            return .redraw
        case .up, .char("k"): v.offset = max(0, v.offset - 1)
        case .down, .char("j"): v.offset = min(v.offset + 1, maxProbeOffset(v.index))
        case .pageUp: v.offset = max(0, v.offset - 10)
        case .pageDown: v.offset = min(v.offset + 10, maxProbeOffset(v.index))
        case .left, .char("h"): v = ProbeViewer(index: max(0, v.index - 1))
        case .right, .char("l"): v = ProbeViewer(index: min(model.probes.count - 1, v.index + 1))
        default: return .handled
        }
        probeViewer = v
        return .redraw
    }
}

extension ProbeReport {
    /// The probe for a status line: `12.50@200`, or `failed@200`.
    public var summary: String {
        (meanScore.map { Fmt.fixed($0, 2) } ?? "failed") + "@\(step)"
    }
}

extension Role {
    /// The probe score's colour (the theme's success colour: higher is better).
    static let probeScoreRole = Role.success
}
