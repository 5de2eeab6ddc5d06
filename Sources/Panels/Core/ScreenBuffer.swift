/// One terminal cell: a grapheme cluster, how many columns it spans and its style.
///
/// A wide (two-column) grapheme occupies its cell with `width == 2`; the cell to its right is a
/// continuation with `width == 0` and an empty symbol, which the driver never draws.
public struct Cell: Hashable, Sendable {
    public var symbol: String
    public var width: UInt8
    public var style: Style

    /// Creates a cell holding `symbol`, measuring its width unless given.
    public init(_ symbol: String = " ", style: Style = .plain, width: Int? = nil) {
        self.symbol = symbol
        self.width = UInt8(width ?? max(1, DisplayWidth.width(of: symbol)))
        self.style = style
    }

    /// A blank cell (one space) in the given style.
    public static func blank(_ style: Style = .plain) -> Cell { Cell(" ", style: style, width: 1) }

    /// The right half of a wide grapheme.
    static func continuation(_ style: Style) -> Cell { Cell("", style: style, width: 0) }

    public var isContinuation: Bool { width == 0 }
}

/// A grid of cells that widgets draw into; the driver turns it into terminal output.
///
/// Writes outside the grid are dropped, never trapped, so widgets may be given any rectangle.
public struct ScreenBuffer: Sendable, Equatable {
    public private(set) var width: Int
    public private(set) var height: Int
    public private(set) var cells: [Cell]

    /// Creates a blank buffer; negative sizes become zero.
    public init(width: Int, height: Int, fill: Cell = .blank()) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: fill, count: self.width * self.height)
    }

    /// The whole buffer as a rectangle at the origin.
    public var bounds: Rect { Rect(x: 0, y: 0, width: width, height: height) }

    /// The cell at (x, y), or nil outside the buffer.
    public subscript(x: Int, y: Int) -> Cell? {
        guard x >= 0, y >= 0, x < width, y < height else { return nil }
        return cells[y * width + x]
    }

    /// Replaces the cell at (x, y), keeping wide graphemes consistent: overwriting either half of
    /// a wide grapheme blanks the other half.
    public mutating func set(_ x: Int, _ y: Int, _ cell: Cell) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = y * width + x
        let old = cells[i]
        if old.width == 2, x + 1 < width, cell.width != 2 { cells[i + 1] = .blank(cells[i + 1].style) }
        if old.width == 0, x > 0, cells[i - 1].width == 2 { cells[i - 1] = .blank(cells[i - 1].style) }
        if cell.width == 2 {
            guard x + 1 < width else {
                cells[i] = .blank(cell.style)  // half a wide grapheme cannot be shown
                return
            }
            let next = cells[i + 1]
            if next.width == 2, x + 2 < width { cells[i + 2] = .blank(cells[i + 2].style) }
            cells[i] = cell
            cells[i + 1] = .continuation(cell.style)
        } else {
            cells[i] = cell
        }
    }

    /// Changes only the style of the cell at (x, y), merging `style` over the existing one.
    public mutating func patchStyle(_ x: Int, _ y: Int, _ style: Style) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        cells[y * width + x].style = cells[y * width + x].style.patched(with: style)
    }

    /// Merges `style` into every cell of `rect`.
    public mutating func patchStyle(_ rect: Rect, _ style: Style) {
        let r = rect.intersection(bounds)
        for yy in r.y..<r.maxY { for xx in r.x..<r.maxX { patchStyle(xx, yy, style) } }
    }

    /// Fills `rect` (clipped to the buffer) with copies of a one-column cell.
    public mutating func fill(_ rect: Rect, with cell: Cell = .blank()) {
        let r = rect.intersection(bounds)
        guard !r.isEmpty else { return }
        // Blank wide graphemes cut by the left or right edge of the rectangle.
        for yy in r.y..<r.maxY {
            if r.x > 0, cells[yy * width + r.x].width == 0 {
                cells[yy * width + r.x - 1] = .blank(cells[yy * width + r.x - 1].style)
            }
            if r.maxX < width, cells[yy * width + r.maxX].width == 0 {
                cells[yy * width + r.maxX] = .blank(cells[yy * width + r.maxX].style)
            }
            let row = yy * width
            for xx in r.x..<r.maxX { cells[row + xx] = cell }
        }
    }

    /// Writes `text` from (x, y) rightwards, stopping at `maxX` (default: the buffer edge), and
    /// returns the column after the last written cell.
    ///
    /// Newlines and other control characters are skipped; a wide grapheme that does not fit before
    /// `maxX` is replaced by a space. A style without a background keeps the cell's background,
    /// so text drawn on a dialog or a selected row stays on it.
    @discardableResult
    public mutating func put(_ text: some StringProtocol, x: Int, y: Int, style: Style = .plain, maxX: Int? = nil)
        -> Int
    {
        let limit = min(maxX ?? width, width)
        guard y >= 0, y < height else { return x }
        var cx = x
        for ch in text {
            if cx >= limit { break }
            let w: Int
            if let a = ch.asciiValue {
                if a < 0x20 || a == 0x7F { continue }
                w = 1
            } else {
                w = DisplayWidth.width(of: ch)
                if w == 0 { continue }  // stray combining marks and controls: nothing to show
            }
            if cx < 0 {
                cx += w
                continue
            }
            if w == 2, cx + 1 >= limit {
                set(cx, y, .blank(style))
                cx += 1
                break
            }
            var cellStyle = style
            if style.bg == .none { cellStyle.bg = cells[y * width + cx].style.bg }  // text keeps the backdrop
            set(cx, y, Cell(String(ch), style: cellStyle, width: w))
            cx += w
        }
        return cx
    }

    /// Writes a sequence of styled spans from (x, y), stopping at `maxX`; returns the next column.
    @discardableResult
    public mutating func put(_ line: StyledLine, x: Int, y: Int, maxX: Int? = nil, base: Style = .plain) -> Int {
        var cx = x
        for span in line.spans {
            cx = put(span.text, x: cx, y: y, style: base.patched(with: span.style), maxX: maxX)
        }
        return cx
    }

    /// Resizes the buffer, keeping the overlapping top-left content and blanking the rest.
    public mutating func resize(width w: Int, height h: Int) {
        var next = ScreenBuffer(width: w, height: h)
        for yy in 0..<min(height, next.height) {
            for xx in 0..<min(width, next.width) { next.cells[yy * next.width + xx] = cells[yy * width + xx] }
            if next.width < width, next.width > 0, next.cells[yy * next.width + next.width - 1].width == 2 {
                next.cells[yy * next.width + next.width - 1] = .blank()
            }
        }
        self = next
    }

    /// The text of row `y`, wide graphemes once each, trailing spaces kept.
    public func line(_ y: Int) -> String {
        guard y >= 0, y < height else { return "" }
        var s = ""
        for x in 0..<width where cells[y * width + x].width != 0 { s += cells[y * width + x].symbol }
        return s
    }

    /// All rows as text.
    public var lines: [String] { (0..<height).map(line) }

    /// A text snapshot: the rows (trailing spaces trimmed, framed by `|` so widths are visible),
    /// then one line per row listing its non-plain style runs as `row: x0-x1 style`.
    public var snapshot: String {
        var out = "size \(width)x\(height)\n"
        for y in 0..<height {
            out += "|" + line(y) + "|\n"
        }
        out += "styles\n"
        for y in 0..<height {
            var runs: [String] = []
            var start = 0
            var current: Style? = nil
            func close(_ end: Int) {
                if let c = current, c != .plain { runs.append("\(start)-\(end - 1) \(c.snapshotName)") }
            }
            for x in 0..<width {
                let s = cells[y * width + x].style
                if s != current {
                    close(x)
                    start = x
                    current = s
                }
            }
            close(width)
            if !runs.isEmpty { out += "\(y): " + runs.joined(separator: ", ") + "\n" }
        }
        return out
    }
}
