import LEMCore

/// The chat panel: transcript with streaming Markdown-ish answers, a multiline input with
/// history, a side panel of settings, and a split view comparing two answers.
public struct ChatPanel: Panel {
    public var model: ChatViewModel
    public var input = TextInputState(multiline: true)
    /// Rows scrolled up from the bottom (0 follows the newest text).
    public var scrollBack = 0
    public var showsSide = true
    /// The user message being edited (Enter resends it), if any.
    public var editingIndex: Int?
    /// Where keys go: the prompt, the settings side panel, or the sessions dialog.
    public var focus: ChatFocus = .input
    /// The settings form while it is open.
    var settingsForm = FormState(fields: [])
    /// Why the settings could not be applied (a number that does not parse).
    public var settingsError: String?
    /// The sessions dialog's selection, and its rename / delete-confirmation state.
    var sessionsTable = TableState()
    public var sessionRename: TextInputState?
    public var confirmDelete = false
    var spinnerFrame = 0
    /// Rendered message bodies, reused across frames (Markdown rendering dominates frame time).
    let bodyCache = MessageRenderCache()
    /// A message for the footer from the last key (a prompt refused while an answer runs); the
    /// workbench takes it.
    var footerNotice: String?

    /// Creates the panel over a view model.
    public init(model: ChatViewModel = ChatViewModel()) { self.model = model }

    public var title: String { "Chat" }
    public var keyContext: String { "chat" }
    public var capturesText: Bool { focus == .input || settingsForm.editor != nil || sessionRename != nil }
    public var runningWork: [String] {
        if model.isGenerating { return ["an answer in Chat"] }
        if model.comparison?.isRunning == true { return ["the split-view answers in Chat"] }
        return []
    }
    public var isAnimating: Bool { model.isGenerating }

    public mutating func tick() -> Bool {
        guard model.isGenerating else { return false }
        spinnerFrame = (spinnerFrame + 1) % 8
        return true
    }

    public func hints(keys: KeyMap) -> [KeyHint] {
        if focus == .settings { return settingsHints }
        if focus == .sessions { return sessionsHints }
        if model.isGenerating {
            return [
                keys.hint("chat.cancel", "stop"), keys.hint("chat.scroll-up", "scroll"),
                keys.hint("global.help", "help", whileTyping: true)
            ]
        }
        return [
            keys.hint("chat.send", editingIndex == nil ? "send" : "resend"), keys.hint("chat.newline", "newline"),
            keys.hint("chat.regenerate", "regenerate"), keys.hint("chat.edit-last", "edit"),
            keys.hint("chat.kernel-mode", "kernel"), keys.hint("chat.split", "compare"),
            keys.hint("chat.settings", "settings"), keys.hint("chat.sessions", "sessions"),
            keys.hint("chat.toggle-side", "side"), keys.hint("global.palette", "commands", whileTyping: true),
            keys.hint("global.next-panel", "panel", whileTyping: true),
            keys.hint("global.quit", "quit", whileTyping: true)
        ]
    }

    public func helpLines(keys: KeyMap) -> [StyledLine] {
        helpTable(
            keys,
            [
                ("chat.send", "send the prompt (or resend an edited one)"), ("chat.newline", "insert a new line"),
                ("chat.cancel", "stop generating / cancel editing"),
                ("chat.regenerate", "generate the last answer again"),
                ("chat.edit-last", "edit the last prompt and resend"),
                ("chat.kernel-mode", "cycle kernel mode none/system/sandwich"),
                ("chat.split", "compare two answers side by side"),
                ("chat.toggle-side", "show/hide the settings panel"),
                ("chat.scroll-up", "scroll the transcript up"), ("chat.scroll-down", "scroll down"),
                ("chat.clear", "clear the conversation"),
                ("chat.settings", "settings: model, adapter, compare target, sampler, system prompt, kernel"),
                ("chat.sessions", "stored sessions: open, rename, delete, export to Markdown"),
                ("chat.new-session", "start a new session")
            ]) + ["", StyledLine("Up/Down on the first/last input line walk the prompt history.", .role(.textDim))]
    }

    // MARK: Layout

    struct Areas {
        var transcript: Rect
        var input: Rect
        var side: Rect?
    }

    func areas(_ area: Rect) -> Areas {
        var main = area
        var side: Rect? = nil
        let sideWidth = focus == .settings ? 40 : 30
        if showsSide || focus == .settings, area.width >= sideWidth + 42 {
            let (m, s) = area.splitRight(sideWidth)
            main = m
            side = s
        }
        let inputRows = min(6, max(1, input.lines.count)) + 2
        let (transcript, inputArea) = main.splitBottom(min(inputRows, max(0, main.height - 3)))
        return Areas(transcript: transcript, input: inputArea, side: side)
    }

    /// The transcript rendered at `width` columns.
    public func transcriptLines(width: Int) -> [StyledLine] {
        guard width > 0 else { return [] }
        var out: [StyledLine] = []
        let spinner = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧"][spinnerFrame]
        for (i, m) in model.messages.enumerated() {
            if !out.isEmpty { out.append(StyledLine()) }
            var header = StyledLine()
            switch m.role {
            case .user: header.append("▍You", .role(.chatUser, .bold))
            case .assistant: header.append("▍Assistant", .role(.chatAssistant, .bold))
            case .system: header.append("▍System", .role(.chatSystem, .bold))
            default: header.append("▍" + m.role.rawValue, .role(.chatSystem, .bold))
            }
            if editingIndex == i { header.append("  (editing)", .role(.warning)) }
            if m.isStreaming { header.append("  \(spinner) generating", .role(.accent)) }
            if let s = m.stats { header.append("  " + s.summary, .role(.textDim)) }
            if m.wasCancelled { header.append("  [stopped]", .role(.warning)) }
            out += header.wrapped(to: width)
            out += bodyCache.lines(for: m.text, role: m.role, width: width)
            if m.isStreaming, let last = out.indices.last, out[last].width < width {
                out[last].append("▌", .role(.accent))
            }
        }
        if let e = model.error {
            out.append(StyledLine())
            out += StyledLine("error: " + e, .role(.error, .bold)).wrapped(to: width)
        }
        if out.isEmpty {
            out = [StyledLine("Type a prompt and press Enter.", .role(.textDim, .italic))]
        }
        return out
    }

    // MARK: Rendering

    public func render(into buffer: inout ScreenBuffer, area: Rect, focused: Bool) {
        guard !area.isEmpty else { return }
        let a = areas(area)
        if focus == .settings, a.side == nil {
            renderSettings(into: &buffer, area: area, focused: focused)
            return
        }
        if let cmp = model.comparison {
            renderComparison(cmp, into: &buffer, area: a.transcript)
        } else {
            let block = Block(
                title: "Chat · \(model.model)", rightTitle: scrollBack > 0 ? "↑\(scrollBack)" : "", focused: false)
            block.render(into: &buffer, area: a.transcript)
            var inner = block.inner(a.transcript).inset(horizontal: 1, vertical: 0)
            if let status = model.status, inner.height > 1 {
                inner.height -= 1
                buffer.put("⟳ " + status, x: inner.x, y: inner.maxY, style: .role(.info), maxX: inner.maxX)
            }
            let lines = transcriptLines(width: max(0, inner.width - 1))
            let offset = max(0, TextView.maxOffset(count: lines.count, height: inner.height) - scrollBack)
            TextView(lines, offset: offset).render(into: &buffer, area: inner)
        }
        let typing = focused && focus == .input
        let inputBlock = Block(
            title: editingIndex == nil ? "Prompt" : "Edit prompt", rightTitle: model.isGenerating ? "Esc stops" : "",
            focused: typing)
        inputBlock.render(into: &buffer, area: a.input)
        TextInput(input, focused: typing, placeholder: "Ask something…").render(
            into: &buffer, area: inputBlock.inner(a.input))
        if let side = a.side {
            if focus == .settings {
                renderSettings(into: &buffer, area: side, focused: focused)
            } else {
                renderSide(into: &buffer, area: side)
            }
        }
        if focus == .sessions { renderSessions(into: &buffer, area: area) }
    }

    func renderSide(into buffer: inout ScreenBuffer, area: Rect) {
        let block = Block(title: "Session")
        block.render(into: &buffer, area: area)
        let inner = block.inner(area).inset(horizontal: 1, vertical: 0)
        let s = model.sampler
        func kv(_ k: String, _ v: String, _ role: Role = .text) -> StyledLine {
            StyledLine([StyledSpan(DisplayWidth.pad(k, to: 10), .role(.textDim)), StyledSpan(v, .role(role))])
        }
        var lines: [StyledLine] = [
            kv("model", model.model, .accent), kv("adapter", model.adapter ?? "none"),
            kv(
                "compare", model.modelName(model.compareModelPath) + " + " + model.adapterName(model.compareAdapterPath)
            ),
            kv("session", model.sessionTitle ?? "unsaved"), StyledLine(),
            StyledLine("Sampler", .role(.heading, .bold)),
            kv("temp", Fmt.fixed(s.temperature, 2)), kv("top-p", Fmt.fixed(s.topP, 2)), kv("top-k", "\(s.topK)"),
            kv("max tok", "\(s.maxTokens)"), kv("seed", s.seed.map { "\($0)" } ?? "random"), StyledLine(),
            kv("kernel", model.kernelMode.rawValue, model.kernelMode == .none ? .text : .warning), StyledLine(),
            StyledLine("System prompt", .role(.heading, .bold))
        ]
        lines += StyledLine(model.systemPrompt.isEmpty ? "(none)" : model.systemPrompt, .role(.chatSystem)).wrapped(
            to: max(1, inner.width - 1))
        if let last = model.messages.last(where: { $0.stats != nil })?.stats {
            lines += [
                StyledLine(), StyledLine("Last turn", .role(.heading, .bold)),
                kv("prompt", "\(last.promptTokens) tok"), kv("answer", "\(last.generatedTokens) tok"),
                kv("prompt/s", Fmt.fixed(last.promptTokensPerSecond, 1)),
                kv("gen/s", Fmt.fixed(last.generationTokensPerSecond, 1))
            ]
        }
        TextView(lines).render(into: &buffer, area: inner)
    }

    func renderComparison(_ cmp: ChatComparison, into buffer: inout ScreenBuffer, area: Rect) {
        let halves = Layout.split(area, .horizontal, [.fill(1), .fill(1)])
        for (k, (title, tokens)) in [(cmp.leftTitle, cmp.left), (cmp.rightTitle, cmp.right)].enumerated() {
            let split = cmp.divergence(right: k == 1)
            let right = split.map { "differs @\($0)" } ?? (cmp.isRunning ? "…" : "same")
            let block = Block(title: title, rightTitle: right)
            block.render(into: &buffer, area: halves[k])
            let inner = block.inner(halves[k]).inset(horizontal: 1, vertical: 0)
            var line = StyledLine()
            for (i, t) in tokens.enumerated() {
                let style: Style =
                    i == split
                    ? Style(fg: .role(.diverge), attributes: [.bold, .underline])
                    : (split.map { i > $0 } ?? false ? .role(.textDim) : .role(.text))
                line.append(i == split ? "▶" + t : t, style)
            }
            TextView(TextView.fitting(inner) { line.wrapped(to: $0) }).render(into: &buffer, area: inner)
        }
    }

    // MARK: Input

    public mutating func handle(_ event: InputEvent, area: Rect, keys: KeyMap, emit: (WorkbenchIntent) -> Void)
        -> EventResult
    {
        switch event {
        case .mouse(let m):
            let a = areas(area)
            if a.transcript.contains(x: m.x, y: m.y) || model.comparison != nil {
                if m.action == .wheelUp {
                    scrollBack += 3
                    return .redraw
                }
                if m.action == .wheelDown {
                    scrollBack = max(0, scrollBack - 3)
                    return .redraw
                }
            }
            return a.input.contains(x: m.x, y: m.y) ? .redraw : .ignored
        case .paste(let text):
            switch focus {
            case .input: return input.insert(text) ? .redraw : .handled
            case .settings: return settingsForm.paste(text) ? .redraw : .ignored
            case .sessions:
                guard var r = sessionRename else { return .ignored }
                r.insert(text)
                sessionRename = r
                return .redraw
            }
        case .key(let k):
            if focus == .settings { return handleSettings(k, keys: keys, emit: emit) }
            if focus == .sessions { return handleSessions(k, keys: keys, emit: emit) }
            let action = keys.action(for: k, in: keyContext)
            if let action, let r = perform(action, emit: emit) { return r }
            if let cmp = model.comparison, k.key == .escape {
                if cmp.isRunning { emit(.chat(.cancel)) }
                model.comparison = nil
                return .redraw
            }
            // Rebindable send/newline keys are translated into the input's own keys.
            let key = action == "send" ? KeyEvent(.enter) : action == "newline" ? KeyEvent(.enter, .alt) : k
            switch input.handle(key) {
            case .ignored: return .ignored
            case .moved, .edited: return .redraw
            case .submitted(let text):
                guard !text.trimmed.isEmpty, !model.isAnswering else {
                    // One generation at a time: the prompt stays in the input, and the footer says why.
                    if !text.isEmpty { input.setText(text) }
                    if model.isAnswering, !text.trimmed.isEmpty { footerNotice = ChatViewModel.busyNotice }
                    return .redraw
                }
                scrollBack = 0
                if let i = editingIndex {
                    editingIndex = nil
                    emit(.chat(.editAndResend(messageIndex: i, text: text)))
                } else {
                    emit(.chat(.send(text)))
                }
                return .redraw
            }
        }
    }

    /// Runs a bound chat action; nil when the action does not apply now (the key falls through).
    mutating func perform(_ action: String, emit: (WorkbenchIntent) -> Void) -> EventResult? {
        switch action {
        case "cancel":
            if model.isGenerating {
                emit(.chat(.cancel))
                return .redraw
            }
            if editingIndex != nil {
                editingIndex = nil
                input.setText("")
                return .redraw
            }
            return nil
        case "regenerate":
            guard !model.isAnswering else {
                footerNotice = ChatViewModel.busyNotice
                return .redraw
            }
            guard model.messages.last?.role == .assistant else { return .handled }
            scrollBack = 0
            emit(.chat(.regenerate))
            return .redraw
        case "edit-last":
            guard !model.isAnswering, let i = model.lastUserIndex else { return .handled }
            editingIndex = i
            input.setText(model.messages[i].text)
            return .redraw
        case "kernel-mode":
            emit(.chat(.setKernelMode(model.kernelMode.next)))
            return .redraw
        case "split":
            if let cmp = model.comparison {
                if cmp.isRunning { emit(.chat(.cancel)) }
                model.comparison = nil
                return .redraw
            }
            guard !model.isGenerating, model.lastUserIndex != nil else { return .handled }
            emit(.chat(.compareLastPrompt))
            return .redraw
        case "toggle-side":
            showsSide.toggle()
            return .redraw
        case "settings":
            openSettings()
            return .redraw
        case "sessions":
            focus = .sessions
            sessionRename = nil
            confirmDelete = false
            emit(.chat(.listSessions))
            return .redraw
        case "new-session":
            guard !model.isGenerating else { return .handled }
            emit(.chat(.newSession))
            return .redraw
        case "scroll-up":
            scrollBack += 10
            return .redraw
        case "scroll-down":
            scrollBack = max(0, scrollBack - 10)
            return .redraw
        case "clear":
            guard !model.isGenerating else { return .handled }
            emit(.chat(.clear))
            return .redraw
        default: return nil  // send/newline are handled by the input itself
        }
    }
}

/// Where the chat panel's keys go.
public enum ChatFocus: Hashable, Sendable { case input, settings, sessions }

/// Remembers the rendered lines of message bodies by text, role and width, so a frame only
/// renders the message that changed (the streaming one). Used from the UI thread only.
final class MessageRenderCache {
    struct Key: Hashable {
        var text: String
        var role: ChatRole
        var width: Int
    }
    private var entries: [Key: [StyledLine]] = [:]
    private var lastUsed: Set<Key> = []

    func lines(for text: String, role: ChatRole, width: Int) -> [StyledLine] {
        let key = Key(text: text, role: role, width: width)
        lastUsed.insert(key)
        if let hit = entries[key] { return hit }
        let base: Style = role == .user ? .role(.chatUser) : .role(role == .system ? .chatSystem : .chatAssistant)
        let lines = MarkdownRenderer.render(text, width: width, base: base)
        // Drop stale entries (old streaming prefixes, old widths) once the cache grows.
        if entries.count > 256 {
            entries = entries.filter { lastUsed.contains($0.key) }
            lastUsed = []
        }
        entries[key] = lines
        return lines
    }
}
