/// The whole workbench screen: a tab bar, the selected panel, a footer of key hints, and
/// overlays (help, command palette, quit confirmation, messages).
///
/// Pure state and rendering: the driver feeds it input and engine updates and draws the buffer.
public struct Workbench {
    public var chat = ChatPanel()
    public var train = TrainPanel()
    public var bench = BenchPanel()
    public var attention = AttentionPanel()
    public var selected = PanelID.chat
    public var keys: KeyMap
    var overlay: Overlay?
    /// A one-line notice shown in the footer (config errors, demo-data warning).
    public internal(set) var notice: String?
    /// Theme names offered by the palette's theme switcher.
    public internal(set) var themeNames: [String] = Theme.builtinNames

    /// What is drawn over the panels.
    enum Overlay: Hashable, Sendable {
        case help(offset: Int)
        case palette(CommandPaletteState)
        case confirmQuit
        case message(title: String, text: String)
    }

    /// Creates a workbench with the given key map.
    public init(keys: KeyMap = .builtin) { self.keys = keys }

    /// Shows a one-line notice in the footer until the next key (nil clears it).
    public mutating func showNotice(_ text: String?) { notice = text }

    /// Shows a message box over the panels.
    public mutating func showMessage(title: String, text: String) { overlay = .message(title: title, text: text) }

    /// Tells the panels how many colours the terminal shows: without colour, heat maps are
    /// drawn with shade characters.
    public mutating func setColorDepth(_ depth: ColorDepth) { attention.monochrome = depth == .none }

    /// Sets the themes the palette offers.
    public mutating func setThemeNames(_ names: [String]) { themeNames = names }

    /// The focused panel as an existential (for read-only questions).
    public var current: any Panel { panel(selected) }

    /// A panel as an existential (for read-only questions).
    public func panel(_ id: PanelID) -> any Panel {
        switch id {
        case .chat: chat
        case .train: train
        case .bench: bench
        case .attention: attention
        }
    }

    /// The work still running in every panel, for the quit question.
    public var runningWork: [String] { PanelID.allCases.flatMap { panel($0).runningWork } }
    /// Whether any panel has work running.
    public var isBusy: Bool { !runningWork.isEmpty }

    /// The question asked before quitting while work runs: it names the work.
    var quitQuestion: String {
        "Still running: " + runningWork.joined(separator: "; ") + ". Quit anyway?"
    }
    /// Whether the loop should tick the animation timer.
    public var isAnimating: Bool { chat.isAnimating || train.isAnimating || bench.isAnimating || attention.isAnimating }

    // MARK: Layout

    /// The area of the panel body for a screen.
    public static func bodyArea(_ screen: Rect) -> Rect {
        Rect(x: screen.x, y: screen.y + 1, width: screen.width, height: screen.height - 2)
    }

    // MARK: Rendering

    /// Draws the whole screen into `buffer` (sized to the terminal).
    public func render(into buffer: inout ScreenBuffer) {
        let screen = buffer.bounds
        buffer.fill(screen)
        guard !screen.isEmpty else { return }
        let titles = PanelID.allCases.map(\.title)
        Tabs(titles, selected: selected.rawValue).render(
            into: &buffer, area: Rect(x: 0, y: 0, width: screen.width, height: 1))
        let typing = current.capturesText
        let right =
            " \(keys.hint("global.help", "", whileTyping: typing).key) help  \(keys.hint("global.palette", "", whileTyping: typing).key) commands "
        if screen.width > 60 {
            buffer.put(right, x: screen.width - DisplayWidth.width(of: right), y: 0, style: .role(.textDim))
        }
        let body = Self.bodyArea(screen)
        let focusedBody = overlay == nil
        switch selected {
        case .chat: chat.render(into: &buffer, area: body, focused: focusedBody)
        case .train: train.render(into: &buffer, area: body, focused: focusedBody)
        case .bench: bench.render(into: &buffer, area: body, focused: focusedBody)
        case .attention: attention.render(into: &buffer, area: body, focused: focusedBody)
        }
        if screen.height >= 2 {
            let footer = Rect(x: 0, y: screen.height - 1, width: screen.width, height: 1)
            if let n = notice {
                buffer.fill(footer, with: .blank(Style(bg: .role(.footerBackground))))
                buffer.put(" " + n, x: 0, y: footer.y, style: Style(fg: .role(.warning), bg: .role(.footerBackground)))
            } else {
                KeyHintBar(overlayHints ?? current.hints(keys: keys)).render(into: &buffer, area: footer)
            }
        }
        switch overlay {
        case .help(let offset):
            Modal(title: "Help · \(current.title)", lines: helpLines, width: 72, offset: offset).render(
                into: &buffer, area: screen)
        case .palette(let p):
            p.render(into: &buffer, screen: screen)
        case .confirmQuit:
            let yes = (["y", "Enter"] + (keys.bindings["global.quit"] ?? []).map(\.name)).joined(separator: " / ")
            ConfirmDialog(question: quitQuestion, confirmIntent: "quit", yesKeys: yes).modal.render(
                into: &buffer, area: screen)
        case .message(let title, let text):
            Modal(
                title: title,
                lines: StyledLine(text, .role(.text)).wrapped(to: min(60, screen.width - 6)) + [
                    "", StyledLine("Esc/Enter: close", .role(.textDim))
                ], width: 64
            )
            .render(into: &buffer, area: screen)
        case nil: break
        }
    }

    var overlayHints: [KeyHint]? {
        switch overlay {
        case .help: return [KeyHint("Esc", "close"), KeyHint("↑↓", "scroll")]
        case .palette: return [KeyHint("Enter", "run"), KeyHint("↑↓", "select"), KeyHint("Esc", "close")]
        case .confirmQuit:
            return [KeyHint("y", "quit"), KeyHint(keys.keyName("global.quit"), "quit"), KeyHint("n", "stay")]
        case .message: return [KeyHint("Esc", "close")]
        case nil: return nil
        }
    }

    /// Whether a global key does its action in the focused panel now: not when the panel binds
    /// the key itself, nor when it is a plain character (or an editing key) and the panel takes
    /// typed text.
    func globalKeyWorks(_ k: KeyEvent) -> Bool {
        if keys.action(for: k, in: current.keyContext) != nil { return false }
        guard current.capturesText else { return true }
        if case .char = k.key, k.modifiers.isEmpty { return false }
        return !KeyMap.editingKeys.contains(k)
    }

    /// The help text: the panel's keys, then the global ones that work here (while text is typed,
    /// only the chords; a key the panel binds itself is left out).
    public var helpLines: [StyledLine] {
        var lines: [StyledLine] = [StyledLine(current.title + " keys", .role(.heading, .bold))]
        lines += current.helpLines(keys: keys)
        lines += ["", StyledLine("Global keys", .role(.heading, .bold))]
        let global = [
            ("global.chat", "Chat panel"), ("global.train", "Train panel"), ("global.bench", "Bench panel"),
            ("global.attention", "Attention panel"), ("global.next-panel", "next panel"),
            ("global.previous-panel", "previous panel"),
            ("global.palette", "command palette"), ("global.theme", "next theme"), ("global.help", "this help"),
            ("global.quit", "quit")
        ]
        lines += helpTable(keys, global, works: globalKeyWorks)
        if current.capturesText {
            lines.append(
                StyledLine(
                    "While typing, plain keys type text: the keys above are the ones that work.", .role(.textDim)))
        }
        lines += ["", StyledLine("Mouse: click a tab or row to select, wheel to scroll.", .role(.textDim))]
        return lines
    }

    /// Commands offered by the palette.
    var paletteCommands: [PaletteCommand] {
        var c = [
            PaletteCommand(title: "Go to Chat", action: "global.chat", key: keys.keyName("global.chat")),
            PaletteCommand(title: "Go to Train", action: "global.train", key: keys.keyName("global.train")),
            PaletteCommand(title: "Go to Bench", action: "global.bench", key: keys.keyName("global.bench")),
            PaletteCommand(title: "Go to Attention", action: "global.attention", key: keys.keyName("global.attention")),
            PaletteCommand(title: "Help", action: "global.help", key: keys.keyName("global.help")),
            PaletteCommand(
                title: "Chat: regenerate answer", action: "chat.regenerate", key: keys.keyName("chat.regenerate")),
            PaletteCommand(
                title: "Chat: cycle kernel mode", action: "chat.kernel-mode", key: keys.keyName("chat.kernel-mode")),
            PaletteCommand(title: "Chat: compare two answers", action: "chat.split", key: keys.keyName("chat.split")),
            PaletteCommand(title: "Chat: clear conversation", action: "chat.clear", key: keys.keyName("chat.clear")),
            PaletteCommand(
                title: "Chat: settings (model, adapter, sampler)", action: "chat.settings",
                key: keys.keyName("chat.settings")),
            PaletteCommand(title: "Chat: sessions", action: "chat.sessions", key: keys.keyName("chat.sessions")),
            PaletteCommand(
                title: "Chat: new session", action: "chat.new-session", key: keys.keyName("chat.new-session")),
            PaletteCommand(title: "Train: new run", action: "train.new-run", key: keys.keyName("train.new-run")),
            PaletteCommand(
                title: "Train: resume from the last adapter", action: "train.resume", key: keys.keyName("train.resume")),
            PaletteCommand(
                title: "Train: chat with checkpoint", action: "train.chat-checkpoint",
                key: keys.keyName("train.chat-checkpoint")),
            PaletteCommand(
                title: "Train: toggle log scale", action: "train.log-scale", key: keys.keyName("train.log-scale")),
            PaletteCommand(title: "Train: stop training", action: "train.stop", key: keys.keyName("train.stop")),
            PaletteCommand(title: "Quit", action: "global.quit", key: keys.keyName("global.quit"))
        ]
        for t in themeNames { c.append(PaletteCommand(title: "Theme: \(t)", action: "theme:\(t)")) }
        return c
    }

    // MARK: Input

    /// Handles one input event for a screen of the given size; intents go to `emit`.
    public mutating func handle(_ event: InputEvent, screen: Rect, emit: (WorkbenchIntent) -> Void) -> EventResult {
        // A notice lasts until the next key (the footer then shows the keys again).
        if case .key = event, notice != nil, overlay == nil {
            notice = nil
            let r = handle(event, screen: screen, emit: emit)
            return r == .ignored ? .redraw : r
        }
        if case .paste(let text) = event, case .palette(var p) = overlay {
            p.query.insert(text)
            p.table = TableState()
            overlay = .palette(p)
            return .redraw
        }
        if let r = handleOverlay(event, screen: screen, emit: emit) { return r }
        let body = Self.bodyArea(screen)
        if case .mouse(let m) = event, m.y == 0, case .press = m.action {
            let tabs = Tabs(PanelID.allCases.map(\.title), selected: selected.rawValue)
            for (i, r) in tabs.hitRanges(x: 0).enumerated() where r.contains(m.x) {
                selected = PanelID(rawValue: i) ?? selected
                return .redraw
            }
            return .handled
        }
        var result = EventResult.ignored
        switch selected {
        case .chat:
            result = chat.handle(event, area: body, keys: keys, emit: emit)
            if let said = chat.footerNotice {
                chat.footerNotice = nil
                notice = said
            }
        case .train:
            var opensChat = false
            train.chatModelPath = chat.model.modelPath
            result = train.handle(event, area: body, keys: keys) { intent in
                if case .chat(.useAdapter) = intent { opensChat = true }
                emit(intent)
            }
            if opensChat { selected = .chat }
        case .bench:
            // A jump to another panel is applied after the bench panel has finished with the key.
            result = bench.handle(event, area: body, keys: keys, emit: emit)
            if let jump = bench.jump {
                bench.jump = nil
                self.jump(jump, emit: emit)
            }
        case .attention: result = attention.handle(event, area: body, keys: keys, emit: emit)
        }
        if result != .ignored { return result }
        guard case .key(let k) = event else { return .ignored }
        // A panel typing text keeps plain characters; global keys then need a modifier or F-key.
        if current.capturesText, case .char = k.key, k.modifiers.isEmpty { return .ignored }
        guard let action = keys.action(for: k, in: "global") else { return .ignored }
        return runGlobal(action, emit: emit)
    }

    /// Carries a benchmark row to Chat (prompt in the input, the benchmark's sampling) or to
    /// Attention (whose analysis of the prompt and its answer the panel already asked for).
    mutating func jump(_ jump: BenchPanel.Jump, emit: (WorkbenchIntent) -> Void) {
        switch jump {
        case .chat(let prompt, let temperature, let maxTokens):
            selected = .chat
            chat.focus = .input
            chat.input.setText(prompt)
            var settings = chat.model.settings
            settings.sampler.temperature = temperature
            settings.sampler.maxTokens = maxTokens
            emit(.chat(.applySettings(settings)))
            notice = "prompt from the benchmark: Enter sends it (temperature \(temperature), \(maxTokens) tokens)"
        case .attention:
            selected = .attention
        }
    }

    /// Runs a global action (also used by the palette).
    public mutating func runGlobal(_ action: String, emit: (WorkbenchIntent) -> Void) -> EventResult {
        switch action {
        case "quit":
            if isBusy {
                overlay = .confirmQuit
                return .redraw
            }
            return .quit
        case "help":
            overlay = .help(offset: 0)
            return .redraw
        case "palette":
            overlay = .palette(CommandPaletteState(commands: paletteCommands))
            return .redraw
        case "next-panel":
            selected = selected.next
            return .redraw
        case "previous-panel":
            selected = selected.previous
            return .redraw
        case "chat":
            selected = .chat
            return .redraw
        case "train":
            selected = .train
            return .redraw
        case "bench":
            selected = .bench
            return .redraw
        case "attention":
            selected = .attention
            return .redraw
        case "theme":
            emit(.app(.setTheme("")))  // empty: the next theme in the list
            return .redraw
        default: return .ignored
        }
    }

    mutating func handleOverlay(_ event: InputEvent, screen: Rect, emit: (WorkbenchIntent) -> Void) -> EventResult? {
        guard let o = overlay else { return nil }
        guard case .key(let k) = event else {
            if case .mouse(let m) = event, case .help(let off) = o {
                if m.action == .wheelDown { overlay = .help(offset: off + 3) }
                if m.action == .wheelUp { overlay = .help(offset: max(0, off - 3)) }
            }
            return .redraw
        }
        // A quit chord (a key with a modifier, or a function key) quits from every overlay, as
        // help says; plain keys keep their overlay meaning (typing, closing).
        if case .confirmQuit = o {
        } else if keys.action(for: k, in: "global") == "quit", Self.isChord(k) {
            overlay = nil
            return runGlobal("quit", emit: emit)
        }
        switch o {
        case .help(let off):
            switch k.key {
            case .down, .char("j"): overlay = .help(offset: off + 1)
            case .up, .char("k"): overlay = .help(offset: max(0, off - 1))
            case .pageDown: overlay = .help(offset: off + 10)
            case .pageUp: overlay = .help(offset: max(0, off - 10))
            default: overlay = nil
            }
            return .redraw
        case .palette(var p):
            switch p.handle(k) {
            case .none: overlay = .palette(p)
            case .close: overlay = nil
            case .run(let action):
                overlay = nil
                return runPaletteAction(action, screen: screen, emit: emit)
            }
            return .redraw
        case .confirmQuit:
            // The quit key again confirms, as y and Enter do.
            if keys.action(for: k, in: "global") == "quit" { return .quit }
            switch k.key {
            case .char("y"), .char("Y"), .enter: return .quit
            default:
                overlay = nil
                return .redraw
            }
        case .message:
            if k.key == .escape || k.key == .enter || k.key == .char("q") { overlay = nil }
            return .redraw
        }
    }

    /// Whether `k` cannot be typed text: it has a Ctrl or Alt modifier, or is not a character.
    static func isChord(_ k: KeyEvent) -> Bool {
        if case .char = k.key { return k.modifiers.contains(.ctrl) || k.modifiers.contains(.alt) }
        return true
    }

    mutating func runPaletteAction(_ action: String, screen: Rect, emit: (WorkbenchIntent) -> Void) -> EventResult {
        if action.hasPrefix("theme:") {
            emit(.app(.setTheme(String(action.dropFirst(6)))))
            return .redraw
        }
        guard let dot = action.firstIndex(of: ".") else { return .redraw }
        let context = String(action[..<dot])
        let name = String(action[action.index(after: dot)...])
        if context == "global" { return runGlobal(name, emit: emit) }
        // Replay the action's first key on its panel, so palette and keys behave the same.
        guard let key = keys.bindings[action]?.first else { return .redraw }
        selected = PanelID.allCases.first { $0.keyContext == context } ?? selected
        let r = handle(.key(key), screen: screen, emit: emit)
        return r == .ignored ? .redraw : r
    }

    /// Advances animations; returns whether a redraw is needed.
    public mutating func tick() -> Bool {
        var changed = chat.tick()
        changed = train.tick() || changed
        changed = bench.tick() || changed
        changed = attention.tick() || changed
        return changed
    }
}
