/// Draws a multi-line `TextInputState` wrapped to its area's width: every line of a long text
/// is visible as rows, scrolled so the cursor's row stays in view (where `TextInput` scrolls one
/// row sideways and shows only the part around the cursor).
struct TextArea: Widget {
    var state: TextInputState
    var focused: Bool

    /// Creates a text area view.
    init(_ state: TextInputState, focused: Bool = true) {
        self.state = state
        self.focused = focused
    }

    /// One screen row: characters `start..<end` of logical line `line`.
    struct Row: Hashable {
        var line: Int
        var start: Int
        var end: Int
    }

    /// The screen rows of the text at `width` columns, and the row and column of the cursor.
    /// A line breaks after the last space that fits (inside a word only when the word alone is
    /// wider than the row); the cursor after a full row's last character goes to a row of its own.
    static func layout(_ state: TextInputState, width: Int) -> (rows: [Row], cursor: (row: Int, x: Int)) {
        let width = max(1, width)
        var rows: [Row] = []
        var cursor = (row: 0, x: 0)
        for (i, line) in state.lines.enumerated() {
            let widths = line.map { DisplayWidth.width(of: String($0)) }
            var start = 0
            var used = 0
            var lastSpace: Int? = nil
            var j = 0
            while j < line.count {
                if used + widths[j] > width, j > start {
                    // Break after the last space of the row, else inside the word.
                    let end = lastSpace.map { $0 + 1 } ?? j
                    rows.append(Row(line: i, start: start, end: end))
                    start = end
                    used = widths[start..<j].reduce(0, +)
                    lastSpace = nil
                    continue
                }
                if line[j] == " " { lastSpace = j }
                used += widths[j]
                j += 1
            }
            let first = rows.count
            rows.append(Row(line: i, start: start, end: line.count))
            guard i == state.row else { continue }
            // The cursor is on the row holding its column (a column at a row's end belongs to the next row).
            let k = rows.indices.last { rows[$0].line == i && rows[$0].start <= state.column } ?? first
            let x = widths[rows[k].start..<min(state.column, line.count)].reduce(0, +)
            if x >= width {
                rows.append(Row(line: i, start: line.count, end: line.count))
                cursor = (rows.count - 1, 0)
            } else {
                cursor = (k, x)
            }
        }
        return (rows, cursor)
    }

    /// The rows the text needs at `width` (at least one).
    static func height(_ state: TextInputState, width: Int) -> Int { layout(state, width: width).rows.count }

    func render(into buffer: inout ScreenBuffer, area: Rect) {
        guard !area.isEmpty else { return }
        let (rows, cursor) = Self.layout(state, width: area.width)
        let first = max(0, cursor.row - area.height + 1)
        for r in 0..<area.height {
            let i = first + r
            guard i < rows.count else { break }
            let row = rows[i]
            buffer.put(
                String(state.lines[row.line][row.start..<row.end]), x: area.x, y: area.y + r, style: .role(.text),
                maxX: area.maxX)
        }
        if first > 0 { buffer.put("↑", x: area.maxX - 1, y: area.y, style: .role(.textDim)) }
        if first + area.height < rows.count {
            buffer.put("↓", x: area.maxX - 1, y: area.maxY - 1, style: .role(.textDim))
        }
        guard focused, cursor.row >= first, cursor.row < first + area.height else { return }
        let line = state.lines[state.row]
        let under = state.column < line.count ? String(line[state.column]) : " "
        let x = area.x + min(cursor.x, area.width - 1)
        buffer.set(x, area.y + cursor.row - first, Cell(under, style: Style(fg: .role(.cursor), attributes: .reverse)))
    }
}
