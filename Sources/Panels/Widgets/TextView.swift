/// Scrollable styled text: lines drawn from a first visible line, optionally with a scrollbar.
struct TextView: Widget {
    var lines: [StyledLine]
    var offset: Int
    var showsScrollbar: Bool
    var base: Style

    /// Creates a view showing `lines` starting at line `offset` (clamped).
    init(_ lines: [StyledLine], offset: Int = 0, showsScrollbar: Bool = true, base: Style = .plain) {
        self.lines = lines
        self.offset = offset
        self.showsScrollbar = showsScrollbar
        self.base = base
    }

    /// The lines `layout` makes for `area`: laid out at its full width when they fit its
    /// height, else one column narrower, so the scrollbar never covers the last column of text.
    static func fitting(_ area: Rect, _ layout: (Int) -> [StyledLine]) -> [StyledLine] {
        let full = layout(max(1, area.width))
        guard full.count > area.height, area.width > 1 else { return full }
        return layout(area.width - 1)
    }

    /// The largest useful offset for `count` lines in a view of `height` rows.
    static func maxOffset(count: Int, height: Int) -> Int { max(0, count - height) }

    func render(into buffer: inout ScreenBuffer, area: Rect) {
        guard !area.isEmpty else { return }
        let needsBar = showsScrollbar && lines.count > area.height && area.width > 1
        let textArea = needsBar ? area.splitRight(1).rest : area
        let start = min(max(0, offset), Self.maxOffset(count: lines.count, height: area.height))
        for row in 0..<area.height {
            let i = start + row
            guard i < lines.count else { break }
            buffer.put(lines[i], x: textArea.x, y: textArea.y + row, maxX: textArea.maxX, base: base)
        }
        if needsBar {
            Scrollbar(total: lines.count, visible: area.height, offset: start)
                .render(into: &buffer, area: area.splitRight(1).right)
        }
    }
}

/// A vertical scrollbar: a track with a thumb sized and placed by the visible fraction.
struct Scrollbar: Widget {
    var total: Int
    var visible: Int
    var offset: Int

    /// The thumb's first row and length within a track of `height` rows.
    func thumb(height: Int) -> (start: Int, length: Int) {
        guard total > visible, height > 0 else { return (0, height) }
        let length = max(1, height * visible / total)
        let maxStart = height - length
        let start = min(maxStart, Int((Double(offset) / Double(max(1, total - visible)) * Double(maxStart)).rounded()))
        return (start, length)
    }

    func render(into buffer: inout ScreenBuffer, area: Rect) {
        guard !area.isEmpty else { return }
        let (s, l) = thumb(height: area.height)
        for row in 0..<area.height {
            let on = row >= s && row < s + l
            buffer.set(area.x, area.y + row, Cell(on ? "┃" : "│", style: .role(on ? .accent : .textDim), width: 1))
        }
    }
}

/// A horizontal progress bar with eighth-block resolution and an optional label.
struct ProgressBar: Widget {
    var fraction: Double
    var label: String

    /// Creates a bar filled to `fraction` (clamped to 0...1).
    init(fraction: Double, label: String = "") {
        self.fraction = fraction.isFinite ? min(1, max(0, fraction)) : 0
        self.label = label
    }

    func render(into buffer: inout ScreenBuffer, area: Rect) {
        guard !area.isEmpty else { return }
        let eighths = Int((fraction * Double(area.width * 8)).rounded(.down))
        let partials = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
        for i in 0..<area.width {
            let filled = eighths - i * 8
            let sym = filled >= 8 ? "█" : (filled > 0 ? partials[filled] : " ")
            buffer.set(
                area.x + i, area.y, Cell(sym, style: Style(fg: .role(.progress), bg: .role(.progressEmpty)), width: 1))
        }
        if !label.isEmpty {
            let t = DisplayWidth.truncate(label, to: area.width)
            let x = area.x + (area.width - DisplayWidth.width(of: t)) / 2
            buffer.put(t, x: x, y: area.y, style: Style(fg: .role(.text), attributes: .bold), maxX: area.maxX)
        }
    }
}
