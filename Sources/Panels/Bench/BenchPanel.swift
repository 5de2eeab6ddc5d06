/// The bench panel: a runs × benchmarks summary with deltas vs a baseline, a per-prompt
/// browser with a query filter (`BenchQuery`) and sort, a detail view with answers side by
/// side and every score, and forms to start a benchmark run or a scoring pass.
public struct BenchPanel: Panel {
    public var model: BenchViewModel
    /// Which view is showing.
    public enum View: Hashable, Sendable { case summary, prompts, detail, consensus }
    public var view = View.summary
    var summaryTable = TableState()
    var promptTable = TableState()
    /// The prompt browser's query line (see `BenchQuery`).
    public var filter = TextInputState()
    /// Which line is being typed, if any.
    public enum Editing: Hashable, Sendable { case filter, run, score, judge }
    public var editing: Editing?
    /// The run / score form's text.
    public var form = TextInputState()
    /// The judge form (see `BenchJudgeRequest.form`), kept between openings.
    var judgeForm: FormState?
    /// The last form problem, shown until the next key.
    public var formError: String?
    /// Sort order of the prompt browser.
    public enum Sort: String, CaseIterable, Hashable, Sendable { case id, benchmark, score, delta }
    public var sort = Sort.id
    public var detailOffset = 0
    /// The Consensus view's first line and which benchmark's board it shows.
    public var consensusOffset = 0
    public var consensusIndex = 0
    /// The run compared with the baseline (delta sort, `flip`/`diff`, first detail columns).
    public var compare = 1
    /// Where the last key asked to go: set by `handle`, taken by the `Workbench`.
    var jump: Jump?

    /// A move to another panel the Bench panel asks for.
    enum Jump: Hashable {
        /// Chat with this prompt in the input and the benchmark's sampling.
        case chat(prompt: String, temperature: Double, maxTokens: Int)
        /// The Attention panel (its analysis was asked for as an intent).
        case attention
    }

    /// Creates the panel over a view model.
    public init(model: BenchViewModel = BenchViewModel()) { self.model = model }

    public var title: String { "Bench" }
    public var keyContext: String { "bench" }
    public var capturesText: Bool { editing != nil }
    public var runningWork: [String] {
        guard let a = model.activity, a.running else { return [] }
        return ["\(a.title) in Bench"]
    }
    /// Whether the query line is being typed.
    public var isEditingFilter: Bool { editing == .filter }

    /// The compared run, kept distinct from the baseline when there are two runs or more.
    public var compareRun: Int {
        guard model.runs.count > 1 else { return model.baseline }
        if compare < model.runs.count, compare != model.baseline { return compare }
        return model.baseline == 0 ? 1 : 0
    }

    /// The parsed query.
    public var query: BenchQuery { BenchQuery.parse(filter.text) }

    public func hints(keys: KeyMap) -> [KeyHint] {
        switch editing {
        case .filter: return [KeyHint("Enter", "apply"), KeyHint("Esc", "clear")]
        case .run, .score: return [KeyHint("Enter", "start"), KeyHint("Esc", "cancel")]
        case .judge:
            return [
                KeyHint("↑↓", "field"), KeyHint("←→", "choose"), KeyHint("Enter", "edit/start"), KeyHint("Esc", "close")
            ]
        case nil: break
        }
        var extra: [KeyHint] = []
        if isBusy { extra.append(keys.hint("bench.cancel", "stop")) }
        switch view {
        case .summary:
            return [
                keys.hint("bench.next-view", "prompts"), KeyHint("←→", "columns"),
                keys.hint("bench.baseline", "baseline"),
                keys.hint("bench.compare", "compare"), keys.hint("bench.run", "run"), keys.hint("bench.score", "score"),
                keys.hint("bench.judge", "judge")
            ]
                + extra + [keys.hint("global.help", "help")]
        case .prompts:
            return [
                keys.hint("bench.open", "open"), keys.hint("bench.filter", "filter"),
                keys.hint("bench.sort", "sort: \(sort.rawValue)"),
                keys.hint("bench.compare", "compare"), keys.hint("bench.to-chat", "chat"),
                keys.hint("bench.to-attention", "attention"), keys.hint("bench.next-view", "summary")
            ] + extra
        case .consensus:
            return [
                keys.hint("bench.next-view", "summary"), keys.hint("bench.up", "scroll"),
                keys.hint("bench.compare", "next benchmark"), keys.hint("bench.back", "back")
            ] + extra
        case .detail:
            return [
                keys.hint("bench.back", "back"), keys.hint("bench.up", "scroll"), keys.hint("bench.compare", "compare"),
                keys.hint("bench.to-chat", "chat"), keys.hint("bench.to-attention", "attention")
            ] + extra
        }
    }

    public func helpLines(keys: KeyMap) -> [StyledLine] {
        helpTable(
            keys,
            [
                ("bench.next-view", "switch summary / prompt browser / consensus (when votes are stored)"),
                ("bench.open", "open the selected prompt"),
                ("bench.back", "back to the list"), ("bench.filter", "filter prompts (query below)"),
                ("bench.sort", "cycle sort: id, benchmark, score, delta"),
                ("bench.baseline", "make the selected run the baseline"),
                ("bench.compare", "cycle the run compared with the baseline (consensus: the benchmark shown)"),
                ("bench.run", "start or resume a benchmark run"),
                ("bench.score", "run text scorers over the stored answers"),
                ("bench.judge", "run (or resume) the LLM judge: local model or OpenAI-compatible URL"),
                ("bench.cancel", "stop the running job"),
                ("bench.reload", "read the store again"), ("bench.scroll-left", "scroll the table's columns left"),
                ("bench.scroll-right", "scroll the table's columns right"),
                ("bench.to-chat", "open the prompt in Chat with the benchmark's sampling"),
                ("bench.to-attention", "show the prompt and its answer in Attention"), ("bench.up", "move up"),
                ("bench.down", "move down")
            ]) + [
                "",
                StyledLine(
                    "Filter: bench:NAME model:NAME scorer:SCORER/DIM score:LO..HI flip[:A,B] diff[:A,B] REGEX",
                    .role(.textDim)),
                StyledLine("Run form: BENCHMARK limit:N kernel:none|system|sandwich max:N seed:N", .role(.textDim)),
                StyledLine("Score form: gsm8k lek-heuristic patterns grammar authority", .role(.textDim)),
                StyledLine(
                    "Judge form: a local model or an OpenAI-compatible URL, a rubric, whose answers, verdict length",
                    .role(.textDim))
            ]
    }

    /// The prompts passing the query, in the chosen order.
    public var visiblePrompts: [BenchPromptResult] {
        let q = query
        let base = model.baseline
        let second = compareRun
        var list = q.apply(to: model.prompts, runs: model.runs, baseline: base, compare: second)
        let focus = q.focusRun(runs: model.runs, baseline: base)
        switch sort {
        case .id: list.sort { $0.id < $1.id }
        case .benchmark: list.sort { ($0.benchmark, $0.id) < ($1.benchmark, $1.id) }
        case .score:
            func v(_ p: BenchPromptResult) -> Double { p.value(focus, metric: q.metric) ?? -.infinity }
            list.sort { (v($0), $1.id) > (v($1), $0.id) }
        case .delta:
            func d(_ p: BenchPromptResult) -> Double {
                (p.value(second, metric: q.metric) ?? 0) - (p.value(base, metric: q.metric) ?? 0)
            }
            list.sort { (d($0), $1.id) > (d($1), $0.id) }
        }
        return list
    }

    // MARK: Rendering

    public func render(into buffer: inout ScreenBuffer, area: Rect, focused: Bool) {
        guard !area.isEmpty else { return }
        var body = area
        if editing == .judge, let judgeForm, area.height >= 6 {
            let (top, strip) = area.splitBottom(min(area.height - 3, judgeForm.fields.count + 3))
            body = top
            renderJudgeForm(judgeForm, into: &buffer, area: strip)
        } else if area.height >= 6, editing == .run || editing == .score || model.activity != nil || formError != nil {
            let warns = model.activity?.warning != nil && formError == nil && area.height >= 10
            let (top, strip) = area.splitBottom((editing == .run || editing == .score ? 3 : 2) + (warns ? 1 : 0))
            body = top
            renderStatus(into: &buffer, area: strip)
        }
        switch view {
        case .summary: renderSummary(into: &buffer, area: body, focused: focused)
        case .prompts: renderPrompts(into: &buffer, area: body, focused: focused)
        case .detail: renderDetail(into: &buffer, area: body, focused: focused)
        case .consensus: renderConsensus(into: &buffer, area: body, focused: focused)
        }
    }

    func renderJudgeForm(_ state: FormState, into buffer: inout ScreenBuffer, area: Rect) {
        let block = Block(title: "Judge", rightTitle: "resumes: answers already judged are skipped", focused: true)
        block.render(into: &buffer, area: area)
        let inner = block.inner(area).inset(horizontal: 1, vertical: 0)
        guard !inner.isEmpty else { return }
        let (rows, status) = inner.splitBottom(1)
        Form(state, labelWidth: 12).render(into: &buffer, area: rows)
        if let formError {
            buffer.put(formError, x: status.x, y: status.y, style: .role(.error), maxX: status.maxX)
        } else if let a = model.activity {
            // The caution first: a summary that long would hide it.
            let text = a.warning.map { "warning: " + $0 } ?? "\(a.title): \(a.line)"
            buffer.put(
                text, x: status.x, y: status.y,
                style: .role(a.warning != nil ? .warning : a.failed ? .error : .textDim), maxX: status.maxX)
        }
    }

    static func scoreText(_ v: Double?) -> String {
        guard let v else { return "—" }
        return Fmt.fixed(v, abs(v) >= 10 ? 1 : 2)
    }

    static func signed(_ v: Double, _ digits: Int) -> String { (v >= 0 ? "+" : "") + Fmt.fixed(v, digits) }

    func runName(_ r: Int) -> String { model.runs.indices.contains(r) ? model.runs[r] : "—" }

    func renderStatus(into buffer: inout ScreenBuffer, area: Rect) {
        var y = area.y
        if editing == .run || editing == .score {
            let label = editing == .run ? "run › " : "score › "
            buffer.put(label, x: area.x + 1, y: y, style: .role(.accent, .bold), maxX: area.maxX)
            let x = area.x + 1 + DisplayWidth.width(of: label)
            TextInput(form, focused: true).render(
                into: &buffer, area: Rect(x: x, y: y, width: max(0, area.maxX - x), height: 1))
            y += 1
        }
        if let formError {
            buffer.put(formError, x: area.x + 1, y: y, style: .role(.error), maxX: area.maxX)
            y += 1
        } else if let a = model.activity, y < area.maxY {
            let role: Role = a.failed ? .error : (a.running ? .accent : .success)
            let head = "\(a.title): "
            buffer.put(head, x: area.x + 1, y: y, style: .role(role, .bold), maxX: area.maxX)
            let x = area.x + 1 + DisplayWidth.width(of: head)
            // A finished job's result may be long (why answers stay unscored): it wraps into the
            // progress bar's row, which it no longer needs.
            let rows = a.running ? 1 : max(1, area.maxY - y - (a.warning != nil ? 1 : 0))
            let wrapped = StyledLine(a.line, .role(.text)).wrapped(to: max(1, area.maxX - x))
            for (i, l) in wrapped.prefix(rows).enumerated() { buffer.put(l, x: x, y: y + i, maxX: area.maxX) }
            y += a.running ? 1 : min(rows, wrapped.count)
            if a.running, let f = a.fraction, y < area.maxY {
                ProgressBar(fraction: f).render(
                    into: &buffer, area: Rect(x: area.x + 1, y: y, width: max(0, area.width - 2), height: 1))
                y += 1
            }
            if let w = a.warning, y < area.maxY {
                buffer.put("warning: " + w, x: area.x + 1, y: area.maxY - 1, style: .role(.warning), maxX: area.maxX)
            }
        }
    }

    func renderSummary(into buffer: inout ScreenBuffer, area: Rect, focused: Bool) {
        let title =
            "Benchmarks · baseline \(runName(model.baseline))"
            + (model.runs.count > 1 ? " · compare \(runName(compareRun))" : "")
        let right = (model.source.isEmpty ? "" : model.source + " · ") + "\(model.prompts.count) prompts"
        let block = Block(title: title, rightTitle: right, focused: focused)
        block.render(into: &buffer, area: area)
        let inner = block.inner(area)
        guard !model.runs.isEmpty else {
            let text = model.notice ?? "No results yet: run `lem bench run` or `lem bench import`, or press r."
            TextView(
                StyledLine(text, .role(.textDim, .italic)).wrapped(to: max(1, inner.width - 1)), showsScrollbar: false
            )
            .render(into: &buffer, area: inner.inset(horizontal: 1, vertical: 0))
            return
        }
        render(
            summaryTableModel(width: inner.width), state: summaryTable, focused: focused, into: &buffer, area: inner,
            notice: model.notice)
    }

    func renderPrompts(into buffer: inout ScreenBuffer, area: Rect, focused: Bool) {
        let list = visiblePrompts
        let q = query
        let filterText = filter.isEmpty ? "" : "filter: \(filter.text) · "
        let block = Block(
            title: "Prompts" + (q.metric.map { " · \($0)" } ?? ""),
            rightTitle: "\(filterText)\(list.count)/\(model.prompts.count) · sort \(sort.rawValue)", focused: focused)
        block.render(into: &buffer, area: area)
        var inner = block.inner(area)
        if isEditingFilter || !q.problems.isEmpty, inner.height > 1 {
            let (top, rest) = inner.splitTop(1)
            if isEditingFilter {
                buffer.put("/", x: top.x, y: top.y, style: .role(.accent, .bold))
                TextInput(filter, focused: true).render(
                    into: &buffer, area: Rect(x: top.x + 1, y: top.y, width: top.width - 1, height: 1))
            } else {
                buffer.put(
                    "cannot read: " + q.problems.joined(separator: "; "), x: top.x + 1, y: top.y,
                    style: .role(.warning), maxX: top.maxX)
            }
            inner = rest
        }
        render(
            promptTableModel(list, width: inner.width), state: promptTable, focused: focused, into: &buffer, area: inner
        )
    }

    /// The narrowest answer column the detail view makes.
    static let detailColumnWidth = 24

    /// The runs shown side by side in the detail view `width` columns wide: baseline, compared
    /// run, then the others, as many as get `detailColumnWidth` columns each (every run at 200).
    func detailRuns(width: Int) -> [Int] {
        var order = [model.baseline, compareRun].filter { model.runs.indices.contains($0) }
        for r in model.runs.indices where !order.contains(r) { order.append(r) }
        if order.isEmpty { order = [0] }
        var unique: [Int] = []
        for r in order where !unique.contains(r) { unique.append(r) }
        return Array(unique.prefix(max(1, width / Self.detailColumnWidth)))
    }

    func renderDetail(into buffer: inout ScreenBuffer, area: Rect, focused: Bool) {
        let list = visiblePrompts
        guard promptTable.selected < list.count else { return }
        let p = list[promptTable.selected]
        let inner = Block(title: "").inner(area).inset(horizontal: 1, vertical: 0)
        let runs = detailRuns(width: inner.width)
        // Runs that do not fit are named, with the key that brings them in.
        let hidden = model.runs.count - runs.count
        let right = (hidden > 0 ? "\(runs.count) of \(model.runs.count) runs · c another · " : "") + "Esc back"
        let block = Block(title: "\(p.benchmark) · \(p.id)", rightTitle: right, focused: focused)
        block.render(into: &buffer, area: area)
        guard !inner.isEmpty else { return }
        let promptLines =
            [StyledLine("Prompt", .role(.heading, .bold))]
            + StyledLine(p.prompt, .role(.chatUser)).wrapped(to: inner.width)
        let (top, rest) = inner.splitTop(min(promptLines.count + 1, inner.height / 3 + 1))
        TextView(promptLines, showsScrollbar: false).render(into: &buffer, area: top)
        let metric = query.metric
        let cols = Layout.split(rest, .horizontal, Array(repeating: .fill(1), count: runs.count))
        for (r, col) in zip(runs, cols) {
            let b = Block(
                title: runName(r), rightTitle: "score " + Self.scoreText(p.value(r, metric: metric)), kind: .plain)
            b.render(into: &buffer, area: col)
            let answer = r < p.answers.count ? p.answers[r] : ""
            // Laid out narrower when a scrollbar is needed, so it never hides a column of text.
            let lines = TextView.fitting(b.inner(col)) { w in
                var lines =
                    answer.isEmpty
                    ? [StyledLine("(no answer)", .role(.textDim, .italic))]
                    : Self.highlighted(answer, spans: r < p.highlights.count ? p.highlights[r] : [], width: w)
                if r < p.details.count, !p.details[r].isEmpty {
                    lines += ["", StyledLine("Scores", .role(.heading, .bold))]
                    for d in p.details[r] {
                        var line = StyledLine(d.key + " ", .role(.accent))
                        line.append(
                            d.value.map { Fmt.fixed($0, abs($0) >= 10 ? 1 : 3) } ?? d.status,
                            .role(d.value == nil ? .warning : .text, .bold))
                        lines += line.wrapped(to: w)
                        if !d.reasoning.isEmpty {
                            lines += StyledLine("  " + d.reasoning, .role(.textDim)).wrapped(to: w)
                        }
                    }
                } else if r < p.reasoning.count, !p.reasoning[r].isEmpty {
                    lines +=
                        ["", StyledLine("Reasoning", .role(.heading, .bold))]
                        + StyledLine(p.reasoning[r], .role(.textDim)).wrapped(to: w)
                }
                return lines
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
                    } else {
                        i += 1
                    }
                }
            }
            var line = StyledLine()
            for (i, c) in chars.enumerated() {
                line.append(
                    String(c),
                    marked[i] ? Style(fg: .role(.text), bg: .role(.highlight), attributes: .bold) : .role(.text))
            }
            out += line.wrapped(to: width)
        }
        return out
    }
}

extension String {
    var replacingNewlines: String { String(map { $0 == "\n" ? " " : $0 }) }
}
