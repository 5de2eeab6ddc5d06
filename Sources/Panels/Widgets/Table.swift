/// A table column: header, width constraint and alignment.
struct TableColumn: Hashable, Sendable {
    var title: String
    var width: Layout.Constraint
    var alignRight: Bool

    /// Creates a column.
    init(_ title: String, _ width: Layout.Constraint, alignRight: Bool = false) {
        self.title = title
        self.width = width
        self.alignRight = alignRight
    }
}

/// Selection and scroll position of a table, kept by the panel between frames.
struct TableState: Hashable, Sendable {
    var selected: Int
    var offset: Int

    /// Creates a state with the first row selected.
    init(selected: Int = 0, offset: Int = 0) {
        self.selected = selected
        self.offset = offset
    }

    /// Moves the selection by `delta` rows within `count` rows.
    mutating func move(_ delta: Int, count: Int) {
        guard count > 0 else { selected = 0; return }
        selected = min(count - 1, max(0, selected + delta))
    }

    /// Adjusts the offset so the selection is visible in `visible` rows.
    mutating func reveal(visible: Int) {
        guard visible > 0 else { return }
        if selected < offset { offset = selected }
        if selected >= offset + visible { offset = selected - visible + 1 }
        offset = max(0, offset)
    }
}

/// A table with a header row, column constraints, a highlighted selected row and a scrollbar.
struct Table: Widget {
    var columns: [TableColumn]
    var rows: [[StyledSpan]]
    var state: TableState
    var focused: Bool

    /// Creates a table; every row should have one span per column (missing cells are blank).
    init(columns: [TableColumn], rows: [[StyledSpan]], state: TableState, focused: Bool = true) {
        self.columns = columns
        self.rows = rows
        self.state = state
        self.focused = focused
    }

    /// The number of body rows that fit in `area` (the header takes one).
    static func visibleRows(in area: Rect) -> Int { max(0, area.height - 1) }

    func render(into buffer: inout ScreenBuffer, area: Rect) {
        guard !area.isEmpty else { return }
        let needsBar = rows.count > Self.visibleRows(in: area) && area.width > 2
        let body = needsBar ? area.splitRight(1).rest : area
        let spaced = columns.flatMap { [$0.width, .fixed(1)] }.dropLast()
        let cols = Layout.distribute(body.width, Array(spaced)).enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
        var xs: [Int] = []
        var cx = body.x
        for (i, w) in cols.enumerated() { xs.append(cx); cx += w + (i < cols.count - 1 ? 1 : 0) }
        let header = Style(fg: .role(.tableHeader), attributes: .bold)
        for (i, c) in columns.enumerated() where cols[i] > 0 {
            buffer.put(DisplayWidth.pad(c.title, to: cols[i], alignRight: c.alignRight), x: xs[i], y: area.y, style: header)
        }
        var st = state
        let visible = Self.visibleRows(in: area)
        st.reveal(visible: visible)
        for r in 0..<visible {
            let i = st.offset + r
            guard i < rows.count else { break }
            let y = area.y + 1 + r
            let selected = i == st.selected
            if selected {
                buffer.fill(Rect(x: body.x, y: y, width: body.width, height: 1), with: .blank(Style(bg: .role(.selection))))
            }
            for (c, col) in columns.enumerated() where cols[c] > 0 {
                let span = c < rows[i].count ? rows[i][c] : StyledSpan("")
                var style = span.style
                if selected {
                    style = style.withBackground(.role(.selection))
                    if focused { style.attributes.insert(.bold) }
                }
                buffer.put(DisplayWidth.pad(span.text, to: cols[c], alignRight: col.alignRight), x: xs[c], y: y, style: style)
            }
        }
        if needsBar {
            Scrollbar(total: rows.count, visible: visible, offset: st.offset)
                .render(into: &buffer, area: Rect(x: area.maxX - 1, y: area.y + 1, width: 1, height: visible))
        }
    }
}
