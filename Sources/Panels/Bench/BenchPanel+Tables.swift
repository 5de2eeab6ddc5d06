/// The summary and prompt-browser tables: columns sized from their content, headers shortened
/// (with a legend) only when the full ones do not fit, and sideways scrolling past the frozen
/// first column when even the short ones do not.
extension BenchPanel {
    /// A table ready to draw: its columns and rows, how many leading columns stay in view, and
    /// the legend lines explaining short headers and marks.
    struct TableModel {
        var columns: [TableColumn]
        var rows: [[StyledSpan]]
        var frozen: Int
        var legend: [String]
    }

    /// A mean as the summary shows it: percentages with one decimal and `%`, scores with two.
    static func meanText(_ v: Double?, percent: Bool) -> String {
        guard let v else { return "—" }
        return percent ? Fmt.fixed(v, 1) + "%" : scoreText(v)
    }

    /// A difference from the baseline: percentage points for percentages; for scores the
    /// absolute difference and, when the baseline is not zero, the relative change.
    static func deltaText(_ d: Double, percent: Bool, relative: Double?) -> String {
        if percent { return signed(d, 1) + "pp" }
        var s = signed(d, abs(d) >= 10 ? 1 : 2)
        if let relative { s += " " + signed(relative, 0) + "%" }
        return s
    }

    /// The summary table for `width` cells: one row per run, one column per benchmark dimension
    /// under its benchmark's group header.
    func summaryTableModel(width: Int) -> TableModel {
        let cols = model.columns
        var cells: [[StyledSpan]] = model.runs.indices.map { r in
            let mark = r == model.baseline ? "★ " : (r == compareRun ? "▸ " : "  ")
            return [StyledSpan(mark + model.runs[r], .role(.text))]
        }
        var showsCount = false
        for (b, column) in cols.enumerated() {
            let most = model.runs.indices.compactMap { model.count($0, b) }.max()
            for r in model.runs.indices {
                var text = Self.meanText(model.mean(r, b), percent: column.isPercent)
                var style = Style.role(.text)
                if r != model.baseline, let d = model.delta(r, b) {
                    text += " " + Self.deltaText(d, percent: column.isPercent, relative: model.deltaPercent(r, b))
                    style = .role(d > 0 ? .deltaUp : (d < 0 ? .deltaDown : .text))
                }
                if model.mean(r, b) != nil, let n = model.count(r, b), let most, n < most {
                    text += " n=\(n)"
                    showsCount = true
                }
                cells[r].append(StyledSpan(text, style))
            }
        }
        let runWidth = max(3, cells.map { DisplayWidth.width(of: $0[0].text) }.max() ?? 0)
        let content = cols.indices.map { b in cells.map { DisplayWidth.width(of: $0[b + 1].text) }.max() ?? 1 }
        // Full headers when the whole table fits; else dimensions no wider than their numbers.
        let full = zip(cols, content).map { max($0.dimension.count, $1) }
        let fits = runWidth + 1 + full.reduce(0) { $0 + $1 + 1 } <= width
        let dims = Abbreviations(cols.map(\.dimension), width: fits ? Int.max : max(6, content.min() ?? 6))
        let widths = zip(cols, content).map { max(DisplayWidth.width(of: dims[$0.dimension]), $1) }
        var groupWidth: [String: Int] = [:]
        for (c, w) in zip(cols, widths) { groupWidth[c.benchmark, default: -1] += w + 1 }
        let groups = Abbreviations(cols.map(\.benchmark), width: groupWidth.values.min() ?? 8)
        // One more cell after the run names, so their marks and names stand apart from the numbers.
        var columns = [TableColumn("Run", .fixed(runWidth + 1))]
        for (c, w) in zip(cols, widths) {
            columns.append(TableColumn(dims[c.dimension], .fixed(w), alignRight: true, group: groups[c.benchmark]))
        }
        var legend = groups.legend + dims.legend
        if cols.contains(where: \.isPercent), model.runs.count > 1 { legend.append("pp percentage points") }
        if showsCount, let n = model.counts.flatMap({ $0 }).max() {
            legend.append("n scored answers, shown where fewer than \(n)")
        }
        return TableModel(columns: columns, rows: cells, frozen: 1, legend: legend)
    }

    /// The prompt browser's cell for a run without an answer (a score it lacks is `—`).
    static let noAnswer = "n/a"

    /// The prompt browser for `width` cells: id, benchmark, prompt, then every run's score
    /// (run names shortened when they would squeeze the prompt below a readable width).
    func promptTableModel(_ list: [BenchPromptResult], width: Int) -> TableModel {
        let metric = query.metric
        let idWidth = max(2, list.map { DisplayWidth.width(of: $0.id) }.max() ?? 2)
        let benchWidth = max(9, list.map { DisplayWidth.width(of: $0.benchmark) }.max() ?? 9)
        let runs = model.runs
        let fullRuns = runs.reduce(0) { $0 + max(5, DisplayWidth.width(of: $1)) + 1 }
        let prompt = 24
        let names = Abbreviations(runs, width: idWidth + benchWidth + prompt + fullRuns + 3 <= width ? Int.max : 5)
        var columns = [
            TableColumn("ID", .fixed(idWidth)), TableColumn("Benchmark", .fixed(benchWidth)),
            TableColumn("Prompt", .fill(1))
        ]
        for r in runs {
            columns.append(TableColumn(names[r], .fixed(max(5, DisplayWidth.width(of: names[r]))), alignRight: true))
        }
        let rows: [[StyledSpan]] = list.map { p in
            var row = [
                StyledSpan(p.id, .role(.textDim)), StyledSpan(p.benchmark, .role(.accent)),
                StyledSpan(p.prompt.replacingNewlines, .role(.text))
            ]
            let base = p.value(model.baseline, metric: metric)
            for r in runs.indices {
                let s = p.value(r, metric: metric)
                var role = Role.text
                if r != model.baseline, let s, let base { role = s > base ? .deltaUp : (s < base ? .deltaDown : .text) }
                row.append(
                    StyledSpan(
                        p.hasAnswer(r) ? Self.scoreText(s) : Self.noAnswer, .role(p.hasAnswer(r) ? role : .textDim)))
            }
            return row
        }
        var legend = names.legend
        if list.contains(where: { p in runs.indices.contains { !p.hasAnswer($0) } }) {
            legend.append("\(Self.noAnswer) no answer")
        }
        return TableModel(columns: columns, rows: rows, frozen: 1, legend: legend)
    }

    /// Draws `table` in `area` with its legend wrapped under it (while the table keeps three rows).
    func render(
        _ table: TableModel, state: TableState, focused: Bool, into buffer: inout ScreenBuffer, area: Rect,
        notice: String? = nil
    ) {
        var lines: [StyledLine] = []
        if let notice { lines += StyledLine(notice, .role(.textDim, .italic)).wrapped(to: max(1, area.width - 1)) }
        // Legend entries are kept whole on a line, separated by ` · `.
        var current = ""
        for entry in table.legend {
            let next = current.isEmpty ? entry : current + " · " + entry
            if !current.isEmpty, DisplayWidth.width(of: next) > area.width - 1 {
                lines.append(StyledLine(current, .role(.textDim)))
                current = entry
            } else {
                current = next
            }
        }
        if !current.isEmpty { lines += StyledLine(current, .role(.textDim)).wrapped(to: max(1, area.width - 1)) }
        // The legend and notice only where they leave the table its header and three rows.
        let header = Table.headerRows(table.columns)
        let reserved = area.height - header - lines.count >= min(3, table.rows.count) ? lines.count : 0
        let (top, bottom) = area.splitBottom(reserved)
        Table(columns: table.columns, rows: table.rows, state: state, focused: focused, frozen: table.frozen)
            .render(into: &buffer, area: top)
        for (i, line) in lines.prefix(reserved).enumerated() {
            buffer.put(line, x: bottom.x + 1, y: bottom.y + i, maxX: bottom.maxX)
        }
    }
}
