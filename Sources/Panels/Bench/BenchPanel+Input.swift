/// Keys and mouse for the bench panel.
extension BenchPanel {
    /// Text scorers offered by the score form.
    public static let defaultScoreForm = "gsm8k lek-heuristic patterns"

    public mutating func handle(_ event: InputEvent, area: Rect, keys: KeyMap, emit: (WorkbenchIntent) -> Void)
        -> EventResult
    {
        if case .mouse(let m) = event { return handleMouse(m, area: area) }
        if case .paste(let text) = event { return paste(text) }
        guard case .key(let k) = event else { return .ignored }
        formError = nil
        if let editing { return handleTyping(k, editing, emit: emit) }
        guard let action = keys.action(for: k, in: keyContext) else { return .ignored }
        let count = view == .summary ? model.runs.count : visiblePrompts.count
        let page = max(1, area.height - 3)
        switch (action, view) {
        case ("next-view", .summary): view = .prompts
        case ("previous-view", .summary): view = model.consensus.isEmpty ? .prompts : .consensus
        case ("next-view", .prompts): view = model.consensus.isEmpty ? .summary : .consensus
        case ("previous-view", .prompts): view = .summary
        case ("next-view", .consensus), ("back", .consensus): view = .summary
        case ("previous-view", .consensus): view = .prompts
        case ("up", .consensus): consensusOffset = max(0, consensusOffset - 1)
        case ("down", .consensus): consensusOffset += 1
        case ("page-up", .consensus): consensusOffset = max(0, consensusOffset - page)
        case ("page-down", .consensus): consensusOffset += page
        case ("compare", .consensus):
            guard !model.consensus.isEmpty else { return .handled }
            consensusIndex = (consensusIndex + 1) % model.consensus.count
            consensusOffset = 0
        case ("up", .summary): summaryTable.move(-1, count: count)
        case ("down", .summary): summaryTable.move(1, count: count)
        case ("up", .prompts): promptTable.move(-1, count: count)
        case ("down", .prompts): promptTable.move(1, count: count)
        case ("scroll-left", .summary), ("scroll-right", .summary):
            let t = summaryTableModel(width: area.width - 2)
            summaryTable.scrollColumns(
                action == "scroll-left" ? -1 : 1,
                maxOffset: Table.maxColumnOffset(t.columns, frozen: t.frozen, width: area.width - 2))
        case ("scroll-left", .prompts), ("scroll-right", .prompts):
            let t = promptTableModel(visiblePrompts, width: area.width - 2)
            promptTable.scrollColumns(
                action == "scroll-left" ? -1 : 1,
                maxOffset: Table.maxColumnOffset(t.columns, frozen: t.frozen, width: area.width - 2))
        case ("page-up", .prompts): promptTable.move(-page, count: count)
        case ("page-down", .prompts): promptTable.move(page, count: count)
        case ("up", .detail): detailOffset = max(0, detailOffset - 1)
        case ("down", .detail): detailOffset += 1
        case ("page-up", .detail): detailOffset = max(0, detailOffset - page)
        case ("page-down", .detail): detailOffset += page
        case ("open", .summary): view = .prompts
        case ("open", .prompts):
            guard promptTable.selected < count else { return .handled }
            view = .detail
            detailOffset = 0
        case ("back", .detail): view = .prompts
        case ("back", .prompts):
            if !filter.isEmpty {
                filter.setText("")
                promptTable = TableState()
            } else {
                view = .summary
            }
        case ("filter", _):
            view = .prompts
            editing = .filter
        case ("sort", .prompts):
            let all = Sort.allCases
            sort = all[(all.firstIndex(of: sort)! + 1) % all.count]
        case ("baseline", .summary):
            guard summaryTable.selected < model.runs.count else { return .handled }
            model.baseline = summaryTable.selected
            emit(.bench(.setBaseline(run: summaryTable.selected)))
        case ("compare", _):
            guard model.runs.count > 1 else { return .handled }
            var next = compareRun
            repeat { next = (next + 1) % model.runs.count } while next == model.baseline
            compare = next
        case ("run", _):
            editing = .run
            form.setText(defaultRunForm)
        case ("score", _):
            editing = .score
            form.setText(Self.defaultScoreForm)
        case ("judge", _):
            editing = .judge
            judgeForm = refreshedJudgeForm()
        case ("cancel", _):
            guard isBusy else { return .handled }
            emit(.bench(.cancel))
        case ("reload", _): emit(.bench(.reload))
        case ("to-chat", .prompts), ("to-chat", .detail):
            guard let row = selectedPrompt else { return .handled }
            jump = .chat(
                prompt: row.prompt, temperature: BenchPanel.benchTemperature,
                maxTokens: BenchPanel.benchMaxTokens(row.benchmark))
        case ("to-attention", .prompts), ("to-attention", .detail):
            guard let row = selectedPrompt else { return .handled }
            let answer =
                row.answers.indices.contains(compareRun) && !row.answers[compareRun].isEmpty
                ? row.answers[compareRun] : row.answers.first { !$0.isEmpty }
            emit(.attention(.analyzeTurn(user: row.prompt, answer: answer)))
            jump = .attention
        default: return .ignored
        }
        return .redraw
    }

    /// Inserts pasted text into the line or form row being typed.
    mutating func paste(_ text: String) -> EventResult {
        switch editing {
        case .filter:
            filter.insert(text)
            promptTable = TableState()
        case .run, .score: form.insert(text)
        case .judge:
            guard var f = judgeForm, f.paste(text) else { return .ignored }
            judgeForm = f
        case nil: return .ignored
        }
        return .redraw
    }

    /// The prompt under the cursor in the browser (and the one the detail view shows).
    var selectedPrompt: BenchPromptResult? {
        let list = visiblePrompts
        return promptTable.selected < list.count ? list[promptTable.selected] : nil
    }

    /// The LEM scripts' sampling temperature for benchmark answers.
    public static let benchTemperature = 0.3

    /// The LEM scripts' answer length: 512 new tokens for GSM8K and the seeds, 256 otherwise.
    public static func benchMaxTokens(_ benchmark: String) -> Int {
        benchmark == "gsm8k" || benchmark == "seeds" ? 512 : 256
    }

    /// The run form's starting text: the benchmark of the selected prompt (else the first runnable one).
    var defaultRunForm: String {
        var bench = model.runnable.first ?? "gsm8k"
        if view != .summary {
            let list = visiblePrompts
            if promptTable.selected < list.count { bench = list[promptTable.selected].benchmark }
        }
        return "\(bench) limit:10 kernel:none"
    }

    /// The judge form with the current choices (a kept form keeps its values where they still apply).
    func refreshedJudgeForm() -> FormState {
        var fresh = BenchJudgeRequest.form(judges: model.judgeModels, rubrics: model.rubrics, runs: model.runs)
        guard let old = judgeForm else { return fresh }
        for i in fresh.fields.indices {
            let key = fresh.fields[i].key
            let value = old[key]
            if case .choice(let options) = fresh.fields[i].kind, !options.contains(value) { continue }
            if case .action = fresh.fields[i].kind { continue }
            fresh[key] = value
        }
        fresh.selected = min(old.selected, fresh.fields.count - 1)
        return fresh
    }

    mutating func handleJudgeForm(_ k: KeyEvent, emit: (WorkbenchIntent) -> Void) -> EventResult {
        guard var state = judgeForm else {
            editing = nil
            return .redraw
        }
        let outcome = state.handle(k)
        judgeForm = state
        switch outcome {
        case .ignored: return .ignored
        case .close: editing = nil
        case .activated:
            switch BenchJudgeRequest.parse(state) {
            case .success(let request):
                editing = nil
                emit(.bench(.judge(request)))
            case .failure(let error):
                formError = error.message
            }
        case .moved, .changed: break
        }
        return .redraw
    }

    mutating func handleTyping(_ k: KeyEvent, _ mode: Editing, emit: (WorkbenchIntent) -> Void) -> EventResult {
        if mode == .judge { return handleJudgeForm(k, emit: emit) }
        switch (mode, k.key) {
        case (.filter, .escape):
            filter.setText("")
            editing = nil
            promptTable = TableState()
        case (.filter, .enter):
            editing = nil
        case (.run, .escape), (.score, .escape):
            editing = nil
        case (.run, .enter):
            switch BenchRunRequest.parse(form.text) {
            case .success(let request):
                editing = nil
                emit(.bench(.startRun(request)))
            case .failure(let error):
                formError = error.message
            }
        case (.score, .enter):
            let scorers = form.text.split(separator: " ").map(String.init)
            let known = ["gsm8k", "lek-heuristic", "patterns", "grammar", "authority"]
            if let bad = scorers.first(where: { !known.contains($0) }) {
                formError = "unknown scorer \(bad) (\(known.joined(separator: ", ")))"
            } else if scorers.isEmpty {
                formError = "name at least one scorer"
            } else {
                editing = nil
                emit(.bench(.score(scorers: scorers)))
            }
        default:
            if mode == .filter {
                guard filter.handle(k) != .ignored else { return .ignored }
                promptTable = TableState()
            } else {
                guard form.handle(k) != .ignored else { return .ignored }
            }
        }
        return .redraw
    }

    mutating func handleMouse(_ m: MouseEvent, area: Rect) -> EventResult {
        let delta = m.action == .wheelUp ? -3 : (m.action == .wheelDown ? 3 : 0)
        switch view {
        case .detail:
            if delta != 0 {
                detailOffset = max(0, detailOffset + delta)
                return .redraw
            }
            return .ignored
        case .consensus:
            guard delta != 0 else { return .ignored }
            consensusOffset = max(0, consensusOffset + delta)
            return .redraw
        case .summary, .prompts:
            let count = view == .summary ? model.runs.count : visiblePrompts.count
            var state = view == .summary ? summaryTable : promptTable
            if delta != 0 {
                state.move(delta, count: count)
            } else if case .press = m.action {
                // Body rows start below the border and the header rows (two over the summary's
                // benchmark groups).
                let headerRows = view == .summary && !model.benchmarks.isEmpty ? 2 : 1
                let top = area.y + 1 + headerRows + (isEditingFilter && view == .prompts ? 1 : 0)
                state.reveal(visible: max(0, area.height - 2 - headerRows))
                let row = state.offset + (m.y - top)
                guard m.y >= top, row < count else { return .ignored }
                state.selected = row
            } else {
                return .ignored
            }
            if view == .summary { summaryTable = state } else { promptTable = state }
            return .redraw
        }
    }
}
