/// One command in the palette: what it is called, the action it runs and its key.
struct PaletteCommand: Hashable, Sendable {
    var title: String
    var action: String
    var key: String = ""
}

/// The command palette: a query box over a fuzzy-filtered list of commands.
struct CommandPaletteState: Hashable, Sendable {
    var commands: [PaletteCommand]
    var query = TextInputState()
    var table = TableState()

    /// Creates a palette over `commands`.
    init(commands: [PaletteCommand]) { self.commands = commands }

    /// Whether `needle`'s characters occur in `hay` in order (case-insensitive), with a score
    /// that prefers contiguous and early matches; nil when they do not.
    static func fuzzyScore(_ needle: String, in hay: String) -> Int? {
        let n = Array(needle.lowercased())
        let h = Array(hay.lowercased())
        if n.isEmpty { return 0 }
        var score = 0
        var j = 0
        var last = -2
        for (i, c) in h.enumerated() where j < n.count && c == n[j] {
            score += (i == last + 1) ? 3 : 1
            if i == 0 || h[i - 1] == " " { score += 2 }
            last = i
            j += 1
        }
        return j == n.count ? score * 100 - h.count : nil
    }

    /// The commands matching the query, best first.
    var matches: [PaletteCommand] {
        let q = query.text
        return commands.compactMap { c in Self.fuzzyScore(q, in: c.title).map { (c, $0) } }
            .sorted { $0.1 > $1.1 }.map(\.0)
    }

    /// The outcome of a key in the palette.
    enum Outcome: Hashable, Sendable { case none, close, run(String) }

    /// Applies a key: typing filters, Up/Down select, Enter runs, Esc closes.
    mutating func handle(_ e: KeyEvent) -> Outcome {
        let m = matches
        switch e.key {
        case .escape: return .close
        case .enter:
            guard table.selected < m.count else { return .close }
            return .run(m[table.selected].action)
        case .up:
            table.move(-1, count: m.count)
            return .none
        case .down, .tab:
            table.move(1, count: m.count)
            return .none
        default:
            if case .edited = query.handle(e) { table = TableState() }
            return .none
        }
    }

    /// Draws the palette near the top of `screen`.
    func render(into buffer: inout ScreenBuffer, screen: Rect) {
        let m = matches
        let w = min(64, screen.width - 2)
        let h = min(m.count + 4, max(5, screen.height / 2))
        let box = Rect(
            x: screen.x + (screen.width - w) / 2, y: screen.y + min(2, screen.height / 6), width: w, height: h)
        guard box.width >= 6, box.height >= 4, box.maxY <= screen.maxY else { return }
        let block = Block(title: "Command palette", focused: true, background: .role(.modalBackground))
        block.render(into: &buffer, area: box)
        let inner = block.inner(box)
        buffer.put("> ", x: inner.x, y: inner.y, style: .role(.accent, .bold))
        TextInput(query, focused: true, placeholder: "type a command").render(
            into: &buffer, area: Rect(x: inner.x + 2, y: inner.y, width: inner.width - 2, height: 1))
        let list = Rect(x: inner.x, y: inner.y + 1, width: inner.width, height: inner.height - 1)
        let rows = m.map { [StyledSpan($0.title, .role(.text)), StyledSpan($0.key, .role(.footerKey))] }
        Table(
            columns: [TableColumn("Command", .fill(1)), TableColumn("Key", .fixed(10), alignRight: true)], rows: rows,
            state: table
        )
        .render(into: &buffer, area: list)
    }
}
