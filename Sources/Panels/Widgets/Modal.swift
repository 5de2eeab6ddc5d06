/// A dialog drawn over the screen: a centred bordered box with a title and text lines.
struct Modal: Widget {
    var title: String
    var lines: [StyledLine]
    var width: Int = 60
    var offset: Int = 0

    /// The box this dialog occupies within `screen`.
    func frame(in screen: Rect) -> Rect {
        screen.centered(width: min(width, screen.width - 2), height: min(lines.count + 2, screen.height - 2))
    }

    func render(into buffer: inout ScreenBuffer, area: Rect) {
        let box = frame(in: area)
        guard box.width >= 3, box.height >= 3 else { return }
        let block = Block(title: title, focused: true, kind: .rounded, background: .role(.modalBackground))
        block.render(into: &buffer, area: box)
        let inner = block.inner(box).inset(horizontal: 1, vertical: 0)
        let wrapped = TextView.fitting(inner) { w in lines.flatMap { $0.spans.isEmpty ? [$0] : $0.wrapped(to: w) } }
        TextView(wrapped, offset: offset, base: Style(bg: .role(.modalBackground))).render(into: &buffer, area: inner)
    }
}

/// A yes/no question shown as a modal; `y`/Enter confirms, `n`/Esc declines.
struct ConfirmDialog: Hashable, Sendable {
    var question: String
    var confirmIntent: String
    /// The keys that confirm, as shown ("y / Enter").
    var yesKeys: String = "y / Enter"

    /// The dialog widget (long questions wrap at 60 columns).
    var modal: Modal {
        let answer = "\(yesKeys): yes    n / Esc: no"
        let width = max(DisplayWidth.width(of: answer), min(60, DisplayWidth.width(of: question))) + 4
        return Modal(
            title: "Confirm", lines: [StyledLine(question, .role(.text)), "", StyledLine(answer, .role(.textDim))],
            width: width)
    }
}
