import LEMCore

/// The sessions dialog: the stored conversations, newest first; open, rename, delete (asking
/// first), export to Markdown, or start a new one.
extension ChatPanel {
    var sessionsHints: [KeyHint] {
        if sessionRename != nil { return [KeyHint("Enter", "rename"), KeyHint("Esc", "cancel")] }
        if confirmDelete { return [KeyHint("y", "delete"), KeyHint("n", "keep")] }
        return [
            KeyHint("Enter", "open"), KeyHint("n", "new"), KeyHint("r", "rename"), KeyHint("d", "delete"),
            KeyHint("e", "export"), KeyHint("Esc", "close")
        ]
    }

    /// The session under the cursor.
    var selectedSession: ChatSessionSummary? {
        model.sessions.indices.contains(sessionsTable.selected) ? model.sessions[sessionsTable.selected] : nil
    }

    mutating func handleSessions(_ k: KeyEvent, keys: KeyMap, emit: (WorkbenchIntent) -> Void) -> EventResult {
        if var r = sessionRename {
            switch r.handle(k) {
            case .submitted(let title):
                sessionRename = nil
                if let s = selectedSession, !title.trimmed.isEmpty { emit(.chat(.renameSession(s.id, title.trimmed))) }
            case .ignored:
                if k.key == .escape { sessionRename = nil } else { return .ignored }
            default: sessionRename = r
            }
            return .redraw
        }
        if confirmDelete {
            confirmDelete = false
            if k.key == .char("y") || k.key == .char("Y"), let s = selectedSession { emit(.chat(.deleteSession(s.id))) }
            return .redraw
        }
        let count = model.sessions.count
        // The key that opens the dialog closes it, whatever it is bound to.
        if keys.action(for: k, in: keyContext) == "sessions" {
            focus = .input
            return .redraw
        }
        switch k.key {
        case .escape: focus = .input
        case .up, .char("k"): sessionsTable.move(-1, count: count)
        case .down, .char("j"): sessionsTable.move(1, count: count)
        case .pageUp: sessionsTable.move(-10, count: count)
        case .pageDown: sessionsTable.move(10, count: count)
        case .enter:
            guard let s = selectedSession, !model.isGenerating else { return .handled }
            focus = .input
            scrollBack = 0
            emit(.chat(.openSession(s.id)))
        case .char("n"):
            guard !model.isGenerating else { return .handled }
            focus = .input
            emit(.chat(.newSession))
        case .char("r"):
            guard let s = selectedSession else { return .handled }
            sessionRename = TextInputState(text: s.title)
        case .char("d"):
            guard selectedSession != nil else { return .handled }
            confirmDelete = true
        case .char("e"):
            guard let s = selectedSession else { return .handled }
            emit(.chat(.exportSession(s.id)))
        default:
            // Other keys are the workbench's (quit, panels), as help lists them.
            return .ignored
        }
        return .redraw
    }

    func renderSessions(into buffer: inout ScreenBuffer, area: Rect) {
        let box = area.centered(
            width: min(86, area.width - 2), height: min(area.height - 2, max(8, model.sessions.count + 5)))
        guard box.width >= 12, box.height >= 4 else { return }
        let block = Block(
            title: "Sessions", rightTitle: "\(model.sessions.count) stored", focused: true,
            background: .role(.modalBackground))
        block.render(into: &buffer, area: box)
        let inner = block.inner(box).inset(horizontal: 1, vertical: 0)
        let (list, footer) = inner.splitBottom(min(1, inner.height))
        var state = sessionsTable
        state.reveal(visible: Table.visibleRows(in: list))
        let rows = model.sessions.map { s -> [StyledSpan] in
            let current = s.id == model.sessionID
            return [
                StyledSpan((current ? "● " : "  ") + s.title, current ? .role(.accent, .bold) : .role(.text)),
                StyledSpan(s.model, .role(.textDim)),
                StyledSpan("\(s.messageCount)", .role(.text)), StyledSpan(Fmt.utcDate(s.updatedAt), .role(.textDim))
            ]
        }
        if rows.isEmpty {
            buffer.put(
                "No stored sessions yet: a conversation is saved after its first answer.", x: list.x, y: list.y,
                style: .role(.textDim, .italic), maxX: list.maxX)
        } else {
            Table(
                columns: [
                    TableColumn("Title", .fill(1)), TableColumn("Model", .fixed(22)),
                    TableColumn("Msgs", .fixed(5), alignRight: true),
                    TableColumn("Updated (UTC)", .fixed(17))
                ], rows: rows, state: state
            ).render(into: &buffer, area: list)
        }
        guard !footer.isEmpty else { return }
        if let r = sessionRename {
            let x = buffer.put(
                "New title: ", x: footer.x, y: footer.y, style: .role(.warning, .bold), maxX: footer.maxX)
            TextInput(r, focused: true).render(
                into: &buffer, area: Rect(x: x, y: footer.y, width: footer.maxX - x, height: 1))
        } else if confirmDelete, let s = selectedSession {
            buffer.put(
                "Delete “\(s.title)”? y / n", x: footer.x, y: footer.y, style: .role(.warning, .bold), maxX: footer.maxX
            )
        } else {
            buffer.put(
                "Enter open · n new · r rename · d delete · e export Markdown · Esc close", x: footer.x, y: footer.y,
                style: .role(.textDim), maxX: footer.maxX)
        }
    }
}

extension Fmt {
    /// Seconds since 1970 as `2026-11-23 13:05` in UTC (civil-from-days, proleptic Gregorian).
    public static func utcDate(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "--" }
        let t = Int64(seconds.rounded(.down))
        let days = t >= 0 ? t / 86400 : (t - 86399) / 86400
        let secs = t - days * 86400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return "\(y)-" + pad2(Int(m)) + "-" + pad2(Int(d)) + " " + pad2(Int(secs / 3600)) + ":"
            + pad2(Int(secs % 3600 / 60))
    }
}
