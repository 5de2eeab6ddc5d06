/// A table column: header, width constraint, alignment, and an optional group header spanning
/// the consecutive columns that share it (a benchmark over its dimensions).
struct TableColumn: Hashable, Sendable {
    var title: String
    var width: Layout.Constraint
    var alignRight: Bool
    /// The header drawn above this column and its neighbours with the same group ("" for none).
    var group: String

    /// Creates a column.
    init(_ title: String, _ width: Layout.Constraint, alignRight: Bool = false, group: String = "") {
        self.title = title
        self.width = width
        self.alignRight = alignRight
        self.group = group
    }

    /// The narrowest the column gets: its fixed or minimum width, 8 for a filling column.
    var minimumWidth: Int {
        switch width {
        case .fixed(let n), .min(let n): return max(0, n)
        case .percent: return 1
        case .fill: return 8
        }
    }
}

/// Selection and scroll position of a table, kept by the panel between frames.
struct TableState: Hashable, Sendable {
    var selected: Int = 0
    var offset: Int = 0
    /// The first scrollable column shown (counted after the frozen columns).
    var columnOffset: Int = 0

    /// Moves the selection by `delta` rows within `count` rows.
    mutating func move(_ delta: Int, count: Int) {
        guard count > 0 else {
            selected = 0
            return
        }
        selected = min(count - 1, max(0, selected + delta))
    }

    /// Adjusts the offset so the selection is visible in `visible` rows.
    mutating func reveal(visible: Int) {
        guard visible > 0 else { return }
        if selected < offset { offset = selected }
        if selected >= offset + visible { offset = selected - visible + 1 }
        offset = max(0, offset)
    }

    /// Scrolls the columns by `delta`, no further than `maxOffset`.
    mutating func scrollColumns(_ delta: Int, maxOffset: Int) {
        columnOffset = min(max(0, maxOffset), max(0, columnOffset + delta))
    }
}

/// A table with a header row (and a group header row above it when columns name groups),
/// column constraints, a highlighted selected row, a scrollbar, and horizontal scrolling: the
/// first `frozen` columns always show, the others from the state's column offset while they fit.
struct Table: Widget {
    var columns: [TableColumn]
    var rows: [[StyledSpan]]
    var state: TableState
    var focused: Bool
    /// Leading columns kept in view when the others scroll sideways.
    var frozen: Int

    /// Creates a table; every row should have one span per column (missing cells are blank).
    init(columns: [TableColumn], rows: [[StyledSpan]], state: TableState, focused: Bool = true, frozen: Int = 0) {
        self.columns = columns
        self.rows = rows
        self.state = state
        self.focused = focused
        self.frozen = min(frozen, columns.count)
    }

    /// Header rows: two when any column has a group.
    static func headerRows(_ columns: [TableColumn]) -> Int { columns.contains { !$0.group.isEmpty } ? 2 : 1 }

    /// The number of body rows that fit in `area` under one header row.
    static func visibleRows(in area: Rect) -> Int { max(0, area.height - 1) }

    /// The number of body rows that fit in `area` under this table's header.
    func visibleRows(in area: Rect) -> Int { max(0, area.height - Self.headerRows(columns)) }

    /// Which columns show in `width` cells and how wide each is: the frozen ones, then the
    /// scrollable ones from the column offset while their minimum widths fit (at least one).
    static func layout(_ columns: [TableColumn], frozen: Int, columnOffset: Int, width: Int) -> [(
        index: Int, width: Int
    )] {
        guard width > 0, !columns.isEmpty else { return [] }
        var shown = Array(0..<min(frozen, columns.count))
        var used = shown.reduce(0) { $0 + columns[$1].minimumWidth + 1 }
        let first = frozen + max(0, min(columnOffset, columns.count - frozen - 1))
        for i in first..<columns.count {
            // Each column with the one-cell gap after it; the last gap is not needed.
            let w = columns[i].minimumWidth + 1
            if used + w > width + 1, shown.count > frozen { break }
            shown.append(i)
            used += w
        }
        let constraints = shown.flatMap { [columns[$0].width, Layout.Constraint.fixed(1)] }.dropLast()
        let widths = Layout.distribute(width, Array(constraints)).enumerated().filter { $0.offset % 2 == 0 }.map(
            \.element)
        return zip(shown, widths).map { ($0, $1) }
    }

    /// The scrollable columns hidden to the left and to the right in `width` cells.
    static func hiddenColumns(_ columns: [TableColumn], frozen: Int, columnOffset: Int, width: Int) -> (
        left: Int, right: Int
    ) {
        let shown = layout(columns, frozen: frozen, columnOffset: columnOffset, width: width).map(\.index)
        let scrollable = shown.filter { $0 >= frozen }
        guard let lo = scrollable.first, let hi = scrollable.last else { return (0, 0) }
        return (lo - frozen, columns.count - 1 - hi)
    }

    /// The largest useful column offset: the first at which no column is hidden to the right.
    static func maxColumnOffset(_ columns: [TableColumn], frozen: Int, width: Int) -> Int {
        let scrollable = max(1, columns.count - frozen)
        return (0..<scrollable).first {
            hiddenColumns(columns, frozen: frozen, columnOffset: $0, width: width).right == 0
        }
            ?? scrollable - 1
    }

    func render(into buffer: inout ScreenBuffer, area: Rect) {
        guard !area.isEmpty else { return }
        let headerRows = Self.headerRows(columns)
        let visible = visibleRows(in: area)
        let needsBar = rows.count > visible && area.width > 2
        let body = needsBar ? area.splitRight(1).rest : area
        let shown = Self.layout(columns, frozen: frozen, columnOffset: state.columnOffset, width: body.width)
        var xs: [Int] = []
        var cx = body.x
        for (_, w) in shown {
            xs.append(cx)
            cx += w + 1
        }
        let header = Style(fg: .role(.tableHeader), attributes: .bold)
        if headerRows == 2 { renderGroups(shown, xs: xs, into: &buffer, y: area.y, maxX: body.maxX) }
        let titleY = area.y + headerRows - 1
        for (k, (i, w)) in shown.enumerated() where w > 0 {
            let c = columns[i]
            buffer.put(DisplayWidth.pad(c.title, to: w, alignRight: c.alignRight), x: xs[k], y: titleY, style: header)
        }
        // Columns hidden to either side are signalled in the header's gaps.
        let hidden = Self.hiddenColumns(columns, frozen: frozen, columnOffset: state.columnOffset, width: body.width)
        if hidden.left > 0, let k = shown.firstIndex(where: { $0.index >= frozen }), xs[k] > body.x {
            buffer.put("◂", x: xs[k] - 1, y: titleY, style: .role(.accent, .bold))
        }
        if hidden.right > 0, let last = xs.last {
            buffer.put(
                "▸", x: min(body.maxX - 1, last + (shown.last?.width ?? 0)), y: titleY, style: .role(.accent, .bold))
        }
        var st = state
        st.reveal(visible: visible)
        for r in 0..<visible {
            let i = st.offset + r
            guard i < rows.count else { break }
            let y = area.y + headerRows + r
            let selected = i == st.selected
            if selected {
                buffer.fill(
                    Rect(x: body.x, y: y, width: body.width, height: 1), with: .blank(Style(bg: .role(.selection))))
            }
            for (k, (c, w)) in shown.enumerated() where w > 0 {
                let span = c < rows[i].count ? rows[i][c] : StyledSpan("")
                var style = span.style
                if selected {
                    style = style.withBackground(.role(.selection))
                    if focused { style.attributes.insert(.bold) }
                }
                buffer.put(
                    DisplayWidth.pad(span.text, to: w, alignRight: columns[c].alignRight), x: xs[k], y: y, style: style)
            }
        }
        if needsBar {
            Scrollbar(total: rows.count, visible: visible, offset: st.offset)
                .render(into: &buffer, area: Rect(x: area.maxX - 1, y: area.y + headerRows, width: 1, height: visible))
        }
    }

    /// The group header row: each run of shown columns with one group gets the group's title
    /// over its whole span, with a rule filling the rest.
    func renderGroups(
        _ shown: [(index: Int, width: Int)], xs: [Int], into buffer: inout ScreenBuffer, y: Int, maxX: Int
    ) {
        var k = 0
        while k < shown.count {
            let group = columns[shown[k].index].group
            var end = k
            while end + 1 < shown.count, columns[shown[end + 1].index].group == group { end += 1 }
            if !group.isEmpty {
                let span = xs[end] + shown[end].width - xs[k]
                let title = DisplayWidth.truncate(group, to: span)
                let rule = String(repeating: "─", count: max(0, span - DisplayWidth.width(of: title) - 1))
                buffer.put(
                    title + " " + rule, x: xs[k], y: y, style: .role(.tableHeader), maxX: min(maxX, xs[k] + span))
            }
            k = end + 1
        }
    }
}
