/// The attention panel: a layer × head overview coloured by a statistic, and the selected
/// head's token × token map in half-block cells with token labels, a legend and a cursor that
/// reads exact values.
public struct AttentionPanel: Panel {
    public var model: AttentionViewModel
    /// Which part has the cursor.
    public enum Focus: Hashable, Sendable { case grid, map }
    public var focus = Focus.grid
    public var gridLayer = 0
    public var gridHead = 0
    public var query = 0
    public var key = 0
    /// The prompt being typed (`attention.prompt`), analysed on Enter.
    public var promptInput = TextInputState()
    public var isEditingPrompt = false
    /// Whether the terminal shows no colour (NO_COLOR): heat is drawn with shade characters.
    public internal(set) var monochrome = false

    /// Creates the panel over a view model.
    public init(model: AttentionViewModel = AttentionViewModel()) { self.model = model }

    public var title: String { "Attention" }
    public var keyContext: String { "attention" }
    public var capturesText: Bool { isEditingPrompt }
    public var runningWork: [String] { model.isCapturing ? ["an attention capture"] : [] }

    public func hints(keys: KeyMap) -> [KeyHint] {
        if isEditingPrompt { return [KeyHint("Enter", "analyse"), KeyHint("Esc", "cancel")] }
        return [
            KeyHint("←↑↓→", focus == .grid ? "choose head" : "move cursor"), keys.hint("attention.open", "load head"),
            keys.hint("attention.switch", focus == .grid ? "to map" : "to grid"),
            keys.hint("attention.statistic", "statistic"),
            keys.hint("attention.prompt", "prompt"), keys.hint("attention.run", "chat prompt"),
            keys.hint("attention.compare", model.showsDifference ? "first run" : "difference"),
            keys.hint("global.help", "help"), keys.hint("global.quit", "quit")
        ]
    }

    public func helpLines(keys: KeyMap) -> [StyledLine] {
        helpTable(
            keys,
            [
                ("attention.up", "move up"), ("attention.down", "move down"), ("attention.left", "move left"),
                ("attention.right", "move right"),
                ("attention.open", "load the selected head's map"), ("attention.switch", "switch between grid and map"),
                ("attention.statistic", "cycle the grid statistic"),
                ("attention.prompt", "type a prompt to analyse (Enter runs it)"),
                ("attention.run", "analyse the last chat prompt"),
                ("attention.compare", "toggle the difference from the second model/adapter")
            ]) + [
                "",
                StyledLine(
                    "Map rows are query tokens, columns key tokens; each cell shows two rows (▀).", .role(.textDim)),
                StyledLine(
                    "Difference mode: the grid shows each head's mean |ΔP|, the map |B − A|, most changed heads listed.",
                    .role(.textDim))
            ]
    }

    // MARK: Layout

    /// Whether the one-line prompt/status strip is shown above the grid and map.
    var showsStrip: Bool {
        isEditingPrompt || !model.prompt.isEmpty || model.status != nil || model.compareLabel != nil
    }

    /// The strip (possibly empty) and the area below it.
    func stripSplit(_ area: Rect) -> (strip: Rect, body: Rect) {
        showsStrip && area.height > 4 ? area.splitTop(1) : (Rect(x: area.x, y: area.y, width: 0, height: 0), area)
    }

    func split(_ full: Rect) -> (grid: Rect, map: Rect) {
        let area = stripSplit(full).body
        let gridWidth = min(area.width / 2, max(24, 5 + model.heads * 2 + 2))
        return area.splitLeft(gridWidth)
    }

    /// How the map fits `inner`: the width of the row labels, of one cell (up to 3 columns when
    /// the tokens leave room), and the rows of key labels above the plot. Key labels are
    /// staggered over those rows (column c on row c mod rows), so each may be rows × cell width
    /// − 1 wide: as many rows as the longest token needs, at most 6 and a third of the height.
    func mapLayout(_ inner: Rect) -> (labelWidth: Int, cellWidth: Int, headerHeight: Int) {
        let t = max(1, model.tokens.count)
        let longest = model.tokens.map { DisplayWidth.width(of: Self.visible($0)) }.max() ?? 1
        let labelWidth = min(max(6, longest + 1), max(6, min(16, inner.width / 3)))
        let cellWidth = max(1, min(3, (inner.width - labelWidth) / t))
        let needed = (longest + 1 + cellWidth - 1) / cellWidth
        let headerHeight = max(1, min(needed, 6, max(1, (inner.height - 4) / 3)))
        return (labelWidth, cellWidth, headerHeight)
    }

    /// The first visible map row and column, and how many show: the window follows the cursor.
    func mapWindow(_ inner: Rect) -> (row0: Int, rows: Int, col0: Int, cols: Int) {
        let t = model.tokens.count
        let (labelWidth, cw, header) = mapLayout(inner)
        let cols = min(t, max(0, (inner.width - labelWidth) / cw))
        let rows = min(t, max(0, inner.height - header - 2))
        let col0 = max(0, min(key - cols / 2, t - cols))
        let row0 = max(0, min(query - rows / 2, t - rows))
        return (row0, rows, col0, cols)
    }

    // MARK: Rendering

    public func render(into buffer: inout ScreenBuffer, area: Rect, focused: Bool) {
        guard !area.isEmpty else { return }
        let (gridArea, mapArea) = split(area)
        renderStrip(into: &buffer, area: stripSplit(area).strip)
        renderGrid(into: &buffer, area: gridArea, focused: focused && focus == .grid)
        renderMap(into: &buffer, area: mapArea, focused: focused && focus == .map)
    }

    func renderStrip(into buffer: inout ScreenBuffer, area: Rect) {
        guard !area.isEmpty else { return }
        let label = isEditingPrompt ? "prompt› " : "prompt: "
        buffer.put(label, x: area.x, y: area.y, style: .role(.accent, .bold), maxX: area.maxX)
        let x = area.x + DisplayWidth.width(of: label)
        var right = ""
        if let status = model.status {
            right = status
        } else if let c = model.compareLabel {
            right = model.showsDifference ? "Δ vs \(c)" : "B: \(c)"
        }
        let rightWidth = min(DisplayWidth.width(of: right), max(0, area.width / 2))
        let textArea = Rect(x: x, y: area.y, width: max(0, area.maxX - x - rightWidth - 1), height: 1)
        if isEditingPrompt {
            TextInput(promptInput, focused: true, placeholder: "type a prompt, Enter analyses it").render(
                into: &buffer, area: textArea)
        } else {
            let shown =
                model.prompt.isEmpty ? "(none: p types one, r uses the last chat prompt)" : Self.visible(model.prompt)
            buffer.put(
                shown, x: textArea.x, y: area.y, style: .role(model.prompt.isEmpty ? .textDim : .text),
                maxX: textArea.maxX)
        }
        if rightWidth > 0 {
            let isError = model.status?.hasPrefix("error") ?? false
            buffer.put(
                DisplayWidth.truncate(right, to: rightWidth), x: area.maxX - rightWidth, y: area.y,
                style: .role(isError ? .error : .textDim), maxX: area.maxX)
        }
    }

    func renderGrid(into buffer: inout ScreenBuffer, area: Rect, focused: Bool) {
        let block = Block(title: "Heads · \(model.statistic)", focused: focused)
        block.render(into: &buffer, area: area)
        let inner = block.inner(area)
        guard model.layers > 0, model.heads > 0, inner.height > 2, inner.width > 6 else {
            if !inner.isEmpty {
                buffer.put("no capture", x: inner.x, y: inner.y, style: .role(.textDim, .italic), maxX: inner.maxX)
            }
            return
        }
        let range = model.statRange
        let span = range.upperBound - range.lowerBound
        let rowsVisible = min(model.layers, inner.height - 3)
        let first = max(0, min(gridLayer - rowsVisible / 2, model.layers - rowsVisible))
        for h in 0..<model.heads where 4 + h * 2 < inner.width {
            buffer.put(h % 5 == 0 ? "\(h)" : "·", x: inner.x + 4 + h * 2, y: inner.y, style: .role(.textDim))
        }
        for r in 0..<rowsVisible {
            let l = first + r
            let y = inner.y + 1 + r
            buffer.put(
                DisplayWidth.pad("L\(l)", to: 4), x: inner.x, y: y, style: .role(l == gridLayer ? .accent : .textDim))
            for h in 0..<model.heads {
                let x = inner.x + 4 + h * 2
                guard x + 1 < inner.maxX else { break }
                let v = model.stat(l, h)
                let f = v.map { span > 0 ? Double(($0 - range.lowerBound) / span) : 0 }
                let isCursor = l == gridLayer && h == gridHead
                let isLoaded = l == model.layer && h == model.head
                let fill = monochrome ? String(repeating: f.map(Heatmap.shade) ?? " ", count: 2) : "  "
                let glyph = isCursor ? "▐▌" : (isLoaded ? "••" : fill)
                let bg: CellColor = monochrome ? .none : (f.map { .heat(fraction: $0) } ?? .none)
                buffer.put(
                    glyph, x: x, y: y, style: Style(fg: .role(.cursor), bg: bg, attributes: isCursor ? .bold : []))
            }
        }
        // In difference mode, the heads that changed most, under the grid while there is room.
        var y = inner.y + 1 + rowsVisible
        if !model.ranked.isEmpty, y < inner.maxY - 3 {
            buffer.put("most changed:", x: inner.x, y: y, style: .role(.textDim, .bold), maxX: inner.maxX)
            y += 1
            for r in model.ranked where y < inner.maxY - 2 {
                buffer.put(
                    "L\(r.layer) H\(r.head) \(Fmt.value(Double(r.value)))", x: inner.x + 1, y: y, style: .role(.text),
                    maxX: inner.maxX)
                y += 1
            }
        }
        let value = model.stat(gridLayer, gridHead).map { Fmt.value(Double($0)) } ?? "—"
        buffer.put(
            "L\(gridLayer) H\(gridHead): \(value)", x: inner.x, y: inner.maxY - 2, style: .role(.text), maxX: inner.maxX
        )
        HeatLegend(
            low: Fmt.value(Double(range.lowerBound)), high: Fmt.value(Double(range.upperBound)), shaded: monochrome
        )
        .render(into: &buffer, area: Rect(x: inner.x, y: inner.maxY - 1, width: inner.width, height: 1))
    }

    func renderMap(into buffer: inout ScreenBuffer, area: Rect, focused: Bool) {
        let t = model.tokens.count
        let inner = Block().inner(area)
        let window = mapWindow(inner)
        var right = "\(t) tokens"
        if window.rows < t || window.cols < t {
            // Token positions count from 0, as in the readout (q3 → k1).
            right =
                "q \(window.row0)–\(window.row0 + window.rows - 1) · k \(window.col0)–\(window.col0 + window.cols - 1) of \(t) tokens"
        }
        let block = Block(
            title: "Layer \(model.layer) · head \(model.head)" + (model.showsDifference ? " · |B−A|" : ""),
            rightTitle: right, focused: focused)
        block.render(into: &buffer, area: area)
        guard t > 0, inner.height >= 5, inner.width >= 14 else {
            if !inner.isEmpty {
                buffer.put(
                    t == 0 ? "no map loaded" : "(too small)", x: inner.x, y: inner.y, style: .role(.textDim, .italic),
                    maxX: inner.maxX)
            }
            return
        }
        let (labelWidth, cw, header) = mapLayout(inner)
        let (row0, rows, col0, cols) = window
        let plot = Rect(x: inner.x + labelWidth, y: inner.y + header, width: cols * cw, height: rows)
        // The visible weights, one token per row.
        var values: [Float] = []
        values.reserveCapacity(rows * cols)
        for q in row0..<(row0 + rows) { for k in col0..<(col0 + cols) { values.append(model.weight(q, k) ?? .nan) } }
        let hi = max(Float(1e-6), values.filter(\.isFinite).max() ?? 1)
        Heatmap(
            values: values, rows: rows, columns: cols, range: 0...hi, cellWidth: cw,
            cursor: focus == .map ? (query - row0, key - col0) : nil, shaded: monochrome
        )
        .render(into: &buffer, area: plot)
        // Key labels above the plot, staggered over the header rows so each has room; the
        // cursor's key is drawn last, on top.
        let room = max(cw, header * cw - 1)
        for c in (0..<cols).filter({ col0 + $0 != key }) + (0..<cols).filter({ col0 + $0 == key }) {
            let k = col0 + c
            let style = Style.role(k == key ? .accent : .textDim, k == key ? .bold : [])
            let label = DisplayWidth.truncate(
                Self.visible(model.tokens[k]), to: min(room, inner.maxX - plot.x - c * cw))
            buffer.put(label, x: plot.x + c * cw, y: inner.y + c % header, style: style, maxX: inner.maxX)
        }
        // Query labels on the left, one per row.
        for r in 0..<rows {
            let q = row0 + r
            let label = DisplayWidth.pad(
                DisplayWidth.truncate(Self.visible(model.tokens[q]), to: labelWidth - 1), to: labelWidth - 1)
            buffer.put(
                label, x: inner.x, y: plot.y + r, style: .role(q == query ? .accent : .textDim, q == query ? .bold : [])
            )
        }
        let v = model.weight(query, key).map { Fmt.fixed(Double($0), 4) } ?? "—"
        let readout =
            "q\(query) '\(Self.visible(query < t ? model.tokens[query] : ""))' → k\(key) '\(Self.visible(key < t ? model.tokens[key] : ""))' = \(v)"
        buffer.put(readout, x: inner.x, y: inner.maxY - 2, style: .role(.text, .bold), maxX: inner.maxX)
        HeatLegend(low: "0", high: Fmt.fixed(Double(hi), 3), shaded: monochrome)
            .render(into: &buffer, area: Rect(x: inner.x, y: inner.maxY - 1, width: inner.width, height: 1))
    }

    /// A token made printable: spaces as `·`, newlines as `⏎`, tabs as `⇥`.
    public static func visible(_ token: String) -> String {
        String(token.map { $0 == " " ? "·" : ($0 == "\n" ? "⏎" : ($0 == "\t" ? "⇥" : $0)) })
    }

    // MARK: Input

    public mutating func handle(_ event: InputEvent, area: Rect, keys: KeyMap, emit: (WorkbenchIntent) -> Void)
        -> EventResult
    {
        switch event {
        case .mouse(let m):
            guard case .press = m.action else { return .ignored }
            let (gridArea, mapArea) = split(area)
            if gridArea.contains(x: m.x, y: m.y) {
                focus = .grid
                let inner = Block().inner(gridArea)
                let rowsVisible = min(model.layers, inner.height - 3)
                let first = max(0, min(gridLayer - rowsVisible / 2, model.layers - rowsVisible))
                let h = (m.x - inner.x - 4) / 2
                let l = first + (m.y - inner.y - 1)
                if m.x >= inner.x + 4, m.y > inner.y, h < model.heads, l < model.layers, l >= 0 {
                    gridLayer = l
                    gridHead = h
                    emit(.attention(.selectHead(layer: l, head: h)))
                }
                return .redraw
            }
            if mapArea.contains(x: m.x, y: m.y) {
                focus = .map
                return .redraw
            }
            return .ignored
        case .paste(let text):
            guard isEditingPrompt else { return .ignored }
            promptInput.insert(text)
            return .redraw
        case .key(let k):
            if isEditingPrompt {
                switch k.key {
                case .escape: isEditingPrompt = false
                default:
                    switch promptInput.handle(k) {
                    case .ignored: return .ignored
                    case .moved, .edited: break
                    case .submitted(let text):
                        guard !text.trimmed.isEmpty else { return .redraw }
                        isEditingPrompt = false
                        emit(.attention(.analyze(text)))
                    }
                }
                return .redraw
            }
            guard let action = keys.action(for: k, in: keyContext) else { return .ignored }
            return perform(action, emit: emit)
        }
    }

    mutating func perform(_ action: String, emit: (WorkbenchIntent) -> Void) -> EventResult {
        let t = model.tokens.count
        switch (action, focus) {
        case ("switch", _): focus = focus == .grid ? .map : .grid
        case ("statistic", _):
            guard let i = model.statistics.firstIndex(of: model.statistic), model.statistics.count > 1 else {
                return .handled
            }
            emit(.attention(.selectStatistic(model.statistics[(i + 1) % model.statistics.count])))
        case ("up", .grid): gridLayer = max(0, gridLayer - 1)
        case ("down", .grid): gridLayer = min(max(0, model.layers - 1), gridLayer + 1)
        case ("left", .grid): gridHead = max(0, gridHead - 1)
        case ("right", .grid): gridHead = min(max(0, model.heads - 1), gridHead + 1)
        case ("open", .grid):
            emit(.attention(.selectHead(layer: gridLayer, head: gridHead)))
            focus = .map
        case ("up", .map): query = max(0, query - 1)
        case ("down", .map): query = min(max(0, t - 1), query + 1)
        case ("left", .map): key = max(0, key - 1)
        case ("right", .map): key = min(max(0, t - 1), key + 1)
        case ("open", .map): focus = .grid
        case ("prompt", _): isEditingPrompt = true
        case ("run", _): emit(.attention(.analyze("")))
        case ("compare", _): emit(.attention(.toggleDifference))
        default: return .ignored
        }
        return .redraw
    }
}
