/// A matrix drawn with half-block cells: each cell shows two vertically stacked values, the
/// upper one as the foreground of `▀` and the lower one as its background, so an area of H rows
/// shows 2H matrix rows. Values are mapped linearly from `range` onto the theme's heat scale.
struct Heatmap: Widget {
    var values: [Float]   // (rows, columns) row-major
    var rows: Int
    var columns: Int
    var range: ClosedRange<Float>
    var cellWidth: Int
    /// The highlighted matrix cell (row, column), drawn reversed.
    var cursor: (row: Int, column: Int)?

    /// Creates a heatmap of a `rows`×`columns` row-major matrix; `cellWidth` columns per value.
    init(values: [Float], rows: Int, columns: Int, range: ClosedRange<Float>, cellWidth: Int = 1, cursor: (row: Int, column: Int)? = nil) {
        self.values = values
        self.rows = rows
        self.columns = columns
        self.range = range
        self.cellWidth = max(1, cellWidth)
        self.cursor = cursor
    }

    /// The heat colour of one value (NaN and missing values map to the low end).
    func color(_ v: Float) -> CellColor {
        let span = range.upperBound - range.lowerBound
        guard span > 0, v.isFinite else { return .heat(v.isFinite && v >= range.upperBound ? 255 : 0) }
        return .heat(fraction: Double((v - range.lowerBound) / span))
    }

    func value(_ r: Int, _ c: Int) -> Float? {
        guard r >= 0, r < rows, c >= 0, c < columns, r * columns + c < values.count else { return nil }
        return values[r * columns + c]
    }

    func render(into buffer: inout ScreenBuffer, area: Rect) {
        guard !area.isEmpty else { return }
        let visibleCols = min(columns, area.width / cellWidth)
        let visibleRows = min((rows + 1) / 2, area.height)
        for cy in 0..<visibleRows {
            for c in 0..<visibleCols {
                let top = value(2 * cy, c), bottom = value(2 * cy + 1, c)
                let fg = top.map(color) ?? .none
                let bg = bottom.map(color) ?? .none
                var style = Style(fg: fg, bg: bg)
                if let cur = cursor, cur.column == c, cur.row / 2 == cy {
                    // Mark the cursor's half with a contrasting glyph instead of colour.
                    let glyph = cur.row % 2 == 0 ? "▀" : "▄"
                    style = Style(fg: .role(.cursor), bg: cur.row % 2 == 0 ? bg : fg)
                    for k in 0..<cellWidth { buffer.set(area.x + c * cellWidth + k, area.y + cy, Cell(glyph, style: style, width: 1)) }
                    continue
                }
                for k in 0..<cellWidth { buffer.set(area.x + c * cellWidth + k, area.y + cy, Cell("▀", style: style, width: 1)) }
            }
        }
    }
}

/// A horizontal colour-scale legend: the heat gradient with the low and high labels.
struct HeatLegend: Widget {
    var low: String
    var high: String

    /// Creates a legend labelled with the scale's ends.
    init(low: String, high: String) {
        self.low = low
        self.high = high
    }

    func render(into buffer: inout ScreenBuffer, area: Rect) {
        guard !area.isEmpty else { return }
        var x = buffer.put(low + " ", x: area.x, y: area.y, style: .role(.textDim), maxX: area.maxX)
        let barWidth = max(0, min(24, area.maxX - x - DisplayWidth.width(of: high) - 1))
        for i in 0..<barWidth {
            let f = barWidth > 1 ? Double(i) / Double(barWidth - 1) : 0
            buffer.set(x + i, area.y, Cell(" ", style: Style(bg: .heat(fraction: f)), width: 1))
        }
        x += barWidth
        buffer.put(" " + high, x: x, y: area.y, style: .role(.textDim), maxX: area.maxX)
    }
}
