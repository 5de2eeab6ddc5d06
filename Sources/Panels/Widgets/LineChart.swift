import Foundation

/// One line on a chart.
struct ChartSeries: Hashable, Sendable {
    var points: [LossPoint]
    var color: CellColor

    /// Creates a series.
    init(_ points: [LossPoint], _ color: CellColor) {
        self.points = points
        self.color = color
    }
}

/// A single glyph placed at a data point on top of the lines (e.g. the best validation loss).
struct ChartMarker: Hashable, Sendable {
    var point: LossPoint
    var glyph: String
    var color: CellColor

    /// Creates a marker.
    init(_ point: LossPoint, glyph: String, color: CellColor) {
        self.point = point
        self.glyph = glyph
        self.color = color
    }
}

/// A vertical line at a step with a label at its top (a curriculum phase's start).
struct ChartBoundary: Hashable, Sendable {
    var step: Int
    var label: String
}

/// A braille line chart with a y axis (linear or log10) labelled on the left and the step range
/// labelled below. Series are drawn in order; later ones win shared cells.
struct LineChart: Widget {
    var series: [ChartSeries]
    var markers: [ChartMarker] = []
    /// Vertical lines drawn behind the data, each labelled at the top.
    var boundaries: [ChartBoundary] = []
    var logScale: Bool = false
    /// Steps shown; nil: all data.
    var stepRange: ClosedRange<Int>?
    var labelWidth: Int = 8

    func transform(_ v: Double) -> Double? {
        guard v.isFinite else { return nil }
        if logScale { return v > 0 ? log10(v) : nil }
        return v
    }

    /// The x and y extents of the visible data (y already transformed), or nil without data.
    func extents() -> (x: ClosedRange<Int>, y: ClosedRange<Double>)? {
        let all = series.flatMap(\.points)
        guard !all.isEmpty else { return nil }
        let xr = stepRange ?? ((all.map(\.step).min()!)...(all.map(\.step).max()!))
        let ys = all.filter { xr.contains($0.step) }.compactMap { transform($0.value) }
        guard var lo = ys.min(), var hi = ys.max() else { return nil }
        // A flat series (a constant learning rate) gets a margin of its own size, not ±0.5,
        // which labelled a rate of 1e-5 with 0.5 and -0.5.
        if hi - lo < max(abs(hi), abs(lo)) * 1e-9 || hi - lo < 1e-300 {
            let margin = max(abs(hi) * 0.1, 1e-12)
            lo -= margin
            hi += margin
        }
        let pad = (hi - lo) * 0.05
        return (xr, (lo - pad)...(hi + pad))
    }

    func render(into buffer: inout ScreenBuffer, area: Rect) {
        guard area.width > labelWidth + 2, area.height >= 3 else {
            if !area.isEmpty {
                buffer.put("(too small)", x: area.x, y: area.y, style: .role(.textDim), maxX: area.maxX)
            }
            return
        }
        let plot = Rect(
            x: area.x + labelWidth + 1, y: area.y, width: area.width - labelWidth - 1, height: area.height - 1)
        for y in plot.y..<plot.maxY { buffer.set(plot.x - 1, y, Cell("│", style: .role(.axis), width: 1)) }
        buffer.set(plot.x - 1, plot.maxY, Cell("└", style: .role(.axis), width: 1))
        for x in plot.x..<plot.maxX { buffer.set(x, plot.maxY, Cell("─", style: .role(.axis), width: 1)) }
        guard let (xr, yr) = extents() else {
            buffer.put(
                "no data yet", x: plot.x + 1, y: plot.y + plot.height / 2, style: .role(.textDim, .italic),
                maxX: plot.maxX)
            return
        }
        var canvas = BrailleCanvas(columns: plot.width, rows: plot.height)
        let xSpan = Double(max(1, xr.upperBound - xr.lowerBound))
        let ySpan = yr.upperBound - yr.lowerBound
        func dot(_ p: LossPoint) -> (Double, Double)? {
            guard let ty = transform(p.value) else { return nil }
            let dx = Double(p.step - xr.lowerBound) / xSpan * Double(canvas.dotWidth - 1)
            let dy = (1 - (ty - yr.lowerBound) / ySpan) * Double(canvas.dotHeight - 1)
            return (dx, dy)
        }
        for s in series {
            let pts = s.points.filter { xr.contains($0.step) }.map { dot($0) ?? (.nan, .nan) }
            canvas.polyline(pts, s.color)
        }
        canvas.render(into: &buffer, area: plot)
        // The phase already going at the left edge is named there, without a line.
        if let current = boundaries.last(where: { $0.step < xr.lowerBound }) {
            buffer.put(current.label, x: plot.x, y: plot.y, style: .role(.textDim, .italic), maxX: plot.maxX)
        }
        for b in boundaries where xr.contains(b.step) {
            let x = plot.x + Int(Double(b.step - xr.lowerBound) / xSpan * Double(canvas.dotWidth - 1)) / 2
            // Behind the data: only empty cells get the line; the label starts right of it.
            for y in plot.y..<plot.maxY where buffer[x, y]?.symbol == " " {
                buffer.set(x, y, Cell("┊", style: .role(.textDim), width: 1))
            }
            buffer.put(b.label, x: x + 1, y: plot.y, style: .role(.textDim, .italic), maxX: plot.maxX)
        }
        for m in markers where xr.contains(m.point.step) {
            guard let (dx, dy) = dot(m.point) else { continue }
            buffer.put(
                m.glyph, x: plot.x + Int(dx) / 2, y: plot.y + Int(dy) / 4, style: Style(fg: m.color, attributes: .bold),
                maxX: plot.maxX)
        }
        // Y labels at top, middle and bottom; x labels at both ends.
        func label(_ t: Double) -> String { Fmt.value(logScale ? pow(10, t) : t) }
        let rows = [
            (plot.y, yr.upperBound), (plot.y + (plot.height - 1) / 2, (yr.upperBound + yr.lowerBound) / 2),
            (plot.maxY - 1, yr.lowerBound)
        ]
        for (y, v) in rows {
            buffer.put(
                DisplayWidth.pad(label(v), to: labelWidth, alignRight: true), x: area.x, y: y, style: .role(.textDim))
        }
        buffer.put("\(xr.lowerBound)", x: plot.x, y: plot.maxY, style: .role(.textDim), maxX: plot.maxX)
        let end = "\(xr.upperBound)"
        buffer.put(
            end, x: plot.maxX - DisplayWidth.width(of: end), y: plot.maxY, style: .role(.textDim), maxX: plot.maxX)
        if logScale { buffer.put("log", x: area.x, y: plot.maxY, style: .role(.textDim, .italic), maxX: plot.x - 1) }
    }
}
