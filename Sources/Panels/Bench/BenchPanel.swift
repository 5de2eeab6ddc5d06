/// The bench panel: a runs × benchmarks summary with deltas vs a baseline, a per-prompt
/// browser with filter and sort, and a detail view with answers side by side.
public struct BenchPanel: Panel {
    public var model: BenchViewModel
    /// Which view is showing.
    public enum View: Hashable, Sendable { case summary, prompts, detail }
    public var view = View.summary
    public var summaryTable = TableState()
    public var promptTable = TableState()
    public var filter = TextInputState()
    public var isEditingFilter = false
    /// Sort order of the prompt browser.
    public enum Sort: String, CaseIterable, Hashable, Sendable { case id, benchmark, score, delta }
    public var sort = Sort.id
    public var detailOffset = 0

    /// Creates the panel over a view model.
    public init(model: BenchViewModel = BenchViewModel()) { self.model = model }

    public var title: String { "Bench" }
    public var keyContext: String { "bench" }
    public var capturesText: Bool { isEditingFilter }

    public func hints(keys: KeyMap) -> [KeyHint] {
        if isEditingFilter { return [KeyHint("Enter", "apply"), KeyHint("Esc", "clear")] }
        switch view {
        case .summary:
            return [keys.hint("bench.next-view", "prompts"), keys.hint("bench.baseline", "set baseline"), keys.hint("global.help", "help"), keys.hint("global.quit", "quit")]
        case .prompts:
            return [keys.hint("bench.open", "open"), keys.hint("bench.filter", "filter"), keys.hint("bench.sort", "sort: \(sort.rawValue)"), keys.hint("bench.next-view", "summary"), keys.hint("global.quit", "quit")]
        case .detail:
            return [keys.hint("bench.back", "back"), keys.hint("bench.up", "scroll"), keys.hint("global.quit", "quit")]
        }
    }

    public func helpLines(keys: KeyMap) -> [StyledLine] {
        helpTable(keys, [
            ("bench.next-view", "switch summary / prompt browser"), ("bench.open", "open the selected prompt"),
            ("bench.back", "back to the list"), ("bench.filter", "filter prompts by text"), ("bench.sort", "cycle sort: id, benchmark, score, delta"),
            ("bench.baseline", "make the selected run the baseline"), ("bench.up", "move up"), ("bench.down", "move down"),
        ])
    }

    /// The prompts passing the filter, in the chosen order.
    public var visiblePrompts: [BenchPromptResult] {
        let q = filter.text.lowercased()
        var list = model.prompts.filter { q.isEmpty || "\($0.id) \($0.benchmark) \($0.prompt)".lowercased().contains(q) }
        let second = model.runs.count > 1 ? (model.baseline == 0 ? 1 : 0) : 0
        switch sort {
        case .id: list.sort { $0.id < $1.id }
        case .benchmark: list.sort { ($0.benchmark, $0.id) < ($1.benchmark, $1.id) }
        case .score: list.sort { ($0.score(model.baseline) ?? -.infinity) > ($1.score(model.baseline) ?? -.infinity) }
        case .delta:
            func d(_ p: BenchPromptResult) -> Double { (p.score(second) ?? 0) - (p.score(model.baseline) ?? 0) }
            list.sort { d($0) > d($1) }
        }
        return list
    }

    // MARK: Rendering

    public func render(into buffer: inout ScreenBuffer, area: Rect, focused: Bool) {
        guard !area.isEmpty else { return }
        switch view {
        case .summary: renderSummary(into: &buffer, area: area, focused: focused)
        case .prompts: renderPrompts(into: &buffer, area: area, focused: focused)
        case .detail: renderDetail(into: &buffer, area: area, focused: focused)
        }
    }

    static func scoreText(_ v: Double?) -> String { v.map { Fmt.fixed($0, 3) } ?? "—" }

    func renderSummary(into buffer: inout ScreenBuffer, area: Rect, focused: Bool) {
        let block = Block(title: "Benchmarks · baseline \(model.runs.indices.contains(model.baseline) ? model.runs[model.baseline] : "—")", rightTitle: "\(model.prompts.count) prompts", focused: focused)
        block.render(into: &buffer, area: area)
        let inner = block.inner(area)
        guard !model.runs.isEmpty else {
            buffer.put("No results yet: run `lem bench` or import results.", x: inner.x + 1, y: inner.y, style: .role(.textDim, .italic), maxX: inner.maxX)
            return
        }
        var columns = [TableColumn("Run", .min(12))]
        for b in model.benchmarks { columns.append(TableColumn(b, .fixed(max(14, DisplayWidth.width(of: b))), alignRight: true)) }
        let rows: [[StyledSpan]] = model.runs.indices.map { r in
            var row = [StyledSpan((r == model.baseline ? "★ " : "  ") + model.runs[r], .role(.text))]
            for b in model.benchmarks.indices {
                var text = Self.scoreText(model.mean(r, b))
                var style = Style.role(.text)
                if r != model.baseline, let d = model.delta(r, b) {
                    text += " " + (d >= 0 ? "+" : "") + Fmt.fixed(d, 3)
                    style = .role(d > 0 ? .deltaUp : (d < 0 ? .deltaDown : .text))
                }
                row.append(StyledSpan(text, style))
            }
            return row
        }
        Table(columns: columns, rows: rows, state: summaryTable, focused: focused).render(into: &buffer, area: inner)
    }

    func renderPrompts(into buffer: inout ScreenBuffer, area: Rect, focused: Bool) {
        let list = visiblePrompts
        let filterText = filter.isEmpty ? "" : "filter: \(filter.text) · "
        let block = Block(title: "Prompts", rightTitle: "\(filterText)\(list.count)/\(model.prompts.count) · sort \(sort.rawValue)", focused: focused)
        block.render(into: &buffer, area: area)
        var inner = block.inner(area)
        if isEditingFilter {
            let (top, rest) = inner.splitTop(1)
            buffer.put("/", x: top.x, y: top.y, style: .role(.accent, .bold))
            TextInput(filter, focused: true).render(into: &buffer, area: Rect(x: top.x + 1, y: top.y, width: top.width - 1, height: 1))
            inner = rest
        }
        var columns = [TableColumn("ID", .fixed(10)), TableColumn("Benchmark", .fixed(12)), TableColumn("Prompt", .fill(1))]
        for r in model.runs.prefix(4) { columns.append(TableColumn(DisplayWidth.truncate(r, to: 9), .fixed(9), alignRight: true)) }
        let rows: [[StyledSpan]] = list.map { p in
            var row = [StyledSpan(p.id, .role(.textDim)), StyledSpan(p.benchmark, .role(.accent)), StyledSpan(p.prompt.replacingNewlines, .role(.text))]
            for r in model.runs.indices.prefix(4) {
                let s = p.score(r)
                let base = p.score(model.baseline)
                let role: Role = (r == model.baseline || s == nil || base == nil) ? .text : (s! > base! ? .deltaUp : (s! < base! ? .deltaDown : .text))
                row.append(StyledSpan(Self.scoreText(s), .role(role)))
            }
            return row
        }
        Table(columns: columns, rows: rows, state: promptTable, focused: focused).render(into: &buffer, area: inner)
    }

    func renderDetail(into buffer: inout ScreenBuffer, area: Rect, focused: Bool) {
        let list = visiblePrompts
        guard promptTable.selected < list.count else { return }
        let p = list[promptTable.selected]
        let block = Block(title: "\(p.benchmark) · \(p.id)", rightTitle: "Esc back", focused: focused)
        block.render(into: &buffer, area: area)
        let inner = block.inner(area).inset(horizontal: 1, vertical: 0)
        guard !inner.isEmpty else { return }
        let promptLines = [StyledLine("Prompt", .role(.heading, .bold))] + StyledLine(p.prompt, .role(.chatUser)).wrapped(to: inner.width)
        let (top, rest) = inner.splitTop(min(promptLines.count + 1, inner.height / 3 + 1))
        TextView(promptLines, showsScrollbar: false).render(into: &buffer, area: top)
        let n = max(1, min(3, model.runs.count))
        let cols = Layout.split(rest, .horizontal, Array(repeating: .fill(1), count: n))
        for (r, col) in cols.enumerated() {
            let b = Block(title: model.runs.indices.contains(r) ? model.runs[r] : "", rightTitle: "score " + Self.scoreText(p.score(r)), kind: .plain)
            b.render(into: &buffer, area: col)
            let w = b.inner(col).width
            var lines = Self.highlighted(r < p.answers.count ? p.answers[r] : "", spans: r < p.highlights.count ? p.highlights[r] : [], width: w)
            if r < p.reasoning.count, !p.reasoning[r].isEmpty {
                lines += ["", StyledLine("Reasoning", .role(.heading, .bold))] + StyledLine(p.reasoning[r], .role(.textDim)).wrapped(to: w)
            }
            TextView(lines, offset: detailOffset).render(into: &buffer, area: b.inner(col))
        }
    }

    /// Wraps `text` with every occurrence of each span in `spans` highlighted.
    public static func highlighted(_ text: String, spans: [String], width: Int) -> [StyledLine] {
        var out: [StyledLine] = []
        for para in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let chars = Array(para)
            var marked = Array(repeating: false, count: chars.count)
            for s in spans where !s.isEmpty {
                let needle = Array(s)
                var i = 0
                while i + needle.count <= chars.count {
                    if Array(chars[i..<(i + needle.count)]) == needle {
                        for k in i..<(i + needle.count) { marked[k] = true }
                        i += needle.count
                    } else { i += 1 }
                }
            }
            var line = StyledLine()
            for (i, c) in chars.enumerated() {
                line.append(String(c), marked[i] ? Style(fg: .role(.text), bg: .role(.highlight), attributes: .bold) : .role(.text))
            }
            out += line.wrapped(to: width)
        }
        return out
    }

    // MARK: Input

    public mutating func handle(_ event: InputEvent, area: Rect, keys: KeyMap, emit: (WorkbenchIntent) -> Void) -> EventResult {
        if case .mouse(let m) = event { return handleMouse(m, area: area) }
        guard case .key(let k) = event else { return .ignored }
        if isEditingFilter {
            switch k.key {
            case .escape: filter.setText(""); isEditingFilter = false
            case .enter: isEditingFilter = false
            default:
                guard filter.handle(k) != .ignored else { return .ignored }
                promptTable = TableState()
            }
            return .redraw
        }
        guard let action = keys.action(for: k, in: keyContext) else { return .ignored }
        let count = view == .summary ? model.runs.count : visiblePrompts.count
        let page = max(1, area.height - 3)
        switch (action, view) {
        case ("next-view", .summary), ("previous-view", .summary): view = .prompts
        case ("next-view", .prompts), ("previous-view", .prompts): view = .summary
        case ("up", .summary): summaryTable.move(-1, count: count)
        case ("down", .summary): summaryTable.move(1, count: count)
        case ("up", .prompts): promptTable.move(-1, count: count)
        case ("down", .prompts): promptTable.move(1, count: count)
        case ("page-up", .prompts): promptTable.move(-page, count: count)
        case ("page-down", .prompts): promptTable.move(page, count: count)
        case ("up", .detail): detailOffset = max(0, detailOffset - 1)
        case ("down", .detail): detailOffset += 1
        case ("open", .summary): view = .prompts
        case ("open", .prompts):
            guard promptTable.selected < count else { return .handled }
            view = .detail
            detailOffset = 0
            emit(.openPrompt(id: visiblePrompts[promptTable.selected].id))
        case ("back", .detail): view = .prompts
        case ("back", .prompts): if !filter.isEmpty { filter.setText("") } else { view = .summary }
        case ("filter", .prompts), ("filter", .summary): view = .prompts; isEditingFilter = true
        case ("sort", .prompts):
            let all = Sort.allCases
            sort = all[(all.firstIndex(of: sort)! + 1) % all.count]
        case ("baseline", .summary):
            guard summaryTable.selected < model.runs.count else { return .handled }
            model.baseline = summaryTable.selected
            emit(.setBaseline(run: summaryTable.selected))
        default: return .ignored
        }
        return .redraw
    }

    mutating func handleMouse(_ m: MouseEvent, area: Rect) -> EventResult {
        let delta = m.action == .wheelUp ? -3 : (m.action == .wheelDown ? 3 : 0)
        switch view {
        case .detail:
            if delta != 0 { detailOffset = max(0, detailOffset + delta); return .redraw }
            return .ignored
        case .summary, .prompts:
            let count = view == .summary ? model.runs.count : visiblePrompts.count
            var state = view == .summary ? summaryTable : promptTable
            if delta != 0 {
                state.move(delta, count: count)
            } else if case .press = m.action {
                // Body rows start below the border and the header row.
                let top = area.y + 2 + (isEditingFilter ? 1 : 0)
                state.reveal(visible: max(0, area.height - 3))
                let row = state.offset + (m.y - top)
                guard m.y >= top, row < count else { return .ignored }
                state.selected = row
            } else { return .ignored }
            if view == .summary { summaryTable = state } else { promptTable = state }
            return .redraw
        }
    }
}

extension String {
    var replacingNewlines: String { String(map { $0 == "\n" ? " " : $0 }) }
}
