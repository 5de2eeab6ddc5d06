/// A matrix drawn one value per cell, `cellWidth` columns wide and one row high (so every row
/// can carry a label): the cell's background on the theme's heat scale, or — without colour
/// (`shaded`, e.g. under NO_COLOR) — a shade character ` ░▒▓█` by value, so the values still
/// show. Values are mapped linearly from `range`.
struct Heatmap: Widget {
    var values: [Float]  // (rows, columns) row-major
    var rows: Int
    var columns: Int
    var range: ClosedRange<Float>
    var cellWidth: Int
    /// The highlighted matrix cell (row, column), drawn as `◆`.
    var cursor: (row: Int, column: Int)?
    /// Shade characters instead of colours.
    var shaded: Bool

    /// The shade characters from the low to the high end of the range.
    static let shades: [String] = [" ", "░", "▒", "▓", "█"]

    /// Creates a heatmap of a `rows`×`columns` row-major matrix; `cellWidth` columns per value.
    init(
        values: [Float], rows: Int, columns: Int, range: ClosedRange<Float>, cellWidth: Int = 1,
        cursor: (row: Int, column: Int)? = nil, shaded: Bool = false
    ) {
        self.values = values
        self.rows = rows
        self.columns = columns
        self.range = range
        self.cellWidth = max(1, cellWidth)
        self.cursor = cursor
        self.shaded = shaded
    }

    /// Where `v` lies in the range, 0...1 (NaN and missing values at the low end).
    func fraction(_ v: Float) -> Double {
        let span = range.upperBound - range.lowerBound
        guard span > 0, v.isFinite else { return v.isFinite && v >= range.upperBound ? 1 : 0 }
        return min(1, max(0, Double((v - range.lowerBound) / span)))
    }

    /// The heat colour of one value.
    func color(_ v: Float) -> CellColor { .heat(fraction: fraction(v)) }

    /// The shade character of a fraction of the range.
    static func shade(_ f: Double) -> String { shades[Int((min(1, max(0, f)) * Double(shades.count - 1)).rounded())] }

    func value(_ r: Int, _ c: Int) -> Float? {
        guard r >= 0, r < rows, c >= 0, c < columns, r * columns + c < values.count else { return nil }
        return values[r * columns + c]
    }

    func render(into buffer: inout ScreenBuffer, area: Rect) {
        guard !area.isEmpty else { return }
        let visibleCols = min(columns, area.width / cellWidth)
        for r in 0..<min(rows, area.height) {
            for c in 0..<visibleCols {
                let f = value(r, c).map(fraction) ?? 0
                let isCursor = cursor.map { $0.row == r && $0.column == c } ?? false
                var style = shaded ? Style.role(.text) : Style(fg: .role(.text), bg: .heat(fraction: f))
                if isCursor {
                    style.fg = .role(.cursor)
                    style.attributes.insert(.bold)
                }
                for k in 0..<cellWidth {
                    let glyph = isCursor ? (k == 0 ? "◆" : " ") : (shaded ? Self.shade(f) : " ")
                    buffer.set(area.x + c * cellWidth + k, area.y + r, Cell(glyph, style: style, width: 1))
                }
            }
        }
    }
}

/// A horizontal scale legend: the heat gradient (or the shade characters) between the low and
/// high labels.
struct HeatLegend: Widget {
    var low: String
    var high: String
    var shaded: Bool = false

    func render(into buffer: inout ScreenBuffer, area: Rect) {
        guard !area.isEmpty else { return }
        var x = buffer.put(low + " ", x: area.x, y: area.y, style: .role(.textDim), maxX: area.maxX)
        let barWidth = max(0, min(24, area.maxX - x - DisplayWidth.width(of: high) - 1))
        for i in 0..<barWidth {
            let f = barWidth > 1 ? Double(i) / Double(barWidth - 1) : 0
            let cell =
                shaded
                ? Cell(Heatmap.shade(f), style: .role(.text), width: 1)
                : Cell(" ", style: Style(bg: .heat(fraction: f)), width: 1)
            buffer.set(x + i, area.y, cell)
        }
        x += barWidth
        buffer.put(" " + high, x: x, y: area.y, style: .role(.textDim), maxX: area.maxX)
    }
}
