/// A bordered box with an optional title, the frame around every panel and dialog.
struct Block: Widget {
    /// The line set used for the border.
    enum BorderKind: Sendable { case rounded, plain, thick, double, none }

    var title: String = ""
    var rightTitle: String = ""
    var focused: Bool = false
    var kind: BorderKind = .rounded
    var background: CellColor = .none

    /// The area inside the border.
    func inner(_ area: Rect) -> Rect { kind == .none ? area : area.inset(1) }

    var glyphs: (tl: String, tr: String, bl: String, br: String, h: String, v: String) {
        switch kind {
        case .rounded: return ("╭", "╮", "╰", "╯", "─", "│")
        case .plain: return ("┌", "┐", "└", "┘", "─", "│")
        case .thick: return ("┏", "┓", "┗", "┛", "━", "┃")
        case .double: return ("╔", "╗", "╚", "╝", "═", "║")
        case .none: return (" ", " ", " ", " ", " ", " ")
        }
    }

    func render(into buffer: inout ScreenBuffer, area: Rect) {
        let a = area.intersection(buffer.bounds)
        guard !a.isEmpty else { return }
        buffer.fill(a, with: .blank(Style(bg: background)))
        guard kind != .none else { return }
        let border = Style(fg: .role(focused ? .borderFocus : .border), bg: background)
        let g = glyphs
        let h1 = Cell(g.h, style: border, width: 1)
        let v1 = Cell(g.v, style: border, width: 1)
        for x in a.x..<a.maxX {
            buffer.set(x, a.y, h1)
            buffer.set(x, a.maxY - 1, h1)
        }
        for y in a.y..<a.maxY {
            buffer.set(a.x, y, v1)
            buffer.set(a.maxX - 1, y, v1)
        }
        if a.width >= 2, a.height >= 2 {
            buffer.set(a.x, a.y, Cell(g.tl, style: border, width: 1))
            buffer.set(a.maxX - 1, a.y, Cell(g.tr, style: border, width: 1))
            buffer.set(a.x, a.maxY - 1, Cell(g.bl, style: border, width: 1))
            buffer.set(a.maxX - 1, a.maxY - 1, Cell(g.br, style: border, width: 1))
        }
        let titleStyle = Style(
            fg: .role(focused ? .titleFocus : .title), bg: background, attributes: focused ? .bold : [])
        // The two titles share the top border (from x + 2 to the corner, one cell apart): the
        // title first, the right title in what is left; each is cut at its end with an
        // ellipsis, never written over the other.
        let room = a.width - 3
        let full = (
            title: title.isEmpty ? 0 : DisplayWidth.width(of: title) + 2,
            right: rightTitle.isEmpty ? 0 : DisplayWidth.width(of: rightTitle) + 2
        )
        let titleWidth = min(full.title, room)
        let rightWidth = min(full.right, room - titleWidth - 1)
        if !rightTitle.isEmpty, rightWidth > 3 {
            let t = " " + DisplayWidth.truncate(rightTitle, to: rightWidth - 2) + " "
            buffer.put(
                t, x: a.maxX - 1 - DisplayWidth.width(of: t), y: a.y, style: Style(fg: .role(.textDim), bg: background))
        }
        if !title.isEmpty, titleWidth > 2 {
            let t = " " + DisplayWidth.truncate(title, to: titleWidth - 2) + " "
            buffer.put(t, x: a.x + 2, y: a.y, style: titleStyle)
        }
    }
}
