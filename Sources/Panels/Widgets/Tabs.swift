/// A row of tab titles with the selected one highlighted.
struct Tabs: Widget {
    var titles: [String]
    var selected: Int

    /// Creates a tab bar.
    init(_ titles: [String], selected: Int) {
        self.titles = titles
        self.selected = selected
    }

    /// The column ranges of each title when drawn from `x`, for mouse hit testing.
    func hitRanges(x: Int) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var cx = x
        for (i, t) in titles.enumerated() {
            let w = DisplayWidth.width(of: " \(i + 1) \(t) ")
            out.append(cx..<(cx + w))
            cx += w + 1
        }
        return out
    }

    func render(into buffer: inout ScreenBuffer, area: Rect) {
        guard !area.isEmpty else { return }
        var cx = area.x
        for (i, t) in titles.enumerated() {
            let on = i == selected
            let style =
                on
                ? Style(fg: .role(.tabActive), bg: .role(.selection), attributes: .bold)
                : Style(fg: .role(.tabInactive))
            cx = buffer.put(" \(i + 1) \(t) ", x: cx, y: area.y, style: style, maxX: area.maxX)
            cx = buffer.put(" ", x: cx, y: area.y, maxX: area.maxX)
        }
    }
}

/// Key hints shown in the footer: each key name followed by what it does.
struct KeyHintBar: Widget {
    var hints: [KeyHint]

    /// Creates a footer from hints, drawn left to right until the width runs out.
    init(_ hints: [KeyHint]) { self.hints = hints }

    func render(into buffer: inout ScreenBuffer, area: Rect) {
        guard !area.isEmpty else { return }
        buffer.fill(
            Rect(x: area.x, y: area.y, width: area.width, height: 1), with: .blank(Style(bg: .role(.footerBackground))))
        var cx = area.x
        for h in hints {
            let need = DisplayWidth.width(of: h.key) + DisplayWidth.width(of: h.label) + 3
            if cx + need > area.maxX { break }
            cx = buffer.put(
                " \(h.key)", x: cx, y: area.y,
                style: Style(fg: .role(.footerKey), bg: .role(.footerBackground), attributes: .bold))
            cx = buffer.put(
                " \(h.label) ", x: cx, y: area.y, style: Style(fg: .role(.footerText), bg: .role(.footerBackground)))
        }
    }
}

/// One footer hint: a key spelling and a short label.
public struct KeyHint: Hashable, Sendable {
    public var key: String
    public var label: String

    /// Creates a hint.
    public init(_ key: String, _ label: String) {
        self.key = key
        self.label = label
    }
}
