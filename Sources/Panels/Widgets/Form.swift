/// One row of a form: a labelled value that is typed, picked from a list, or a button.
struct FormField: Hashable, Sendable {
    /// How the value is edited.
    enum Kind: Hashable, Sendable {
        /// Free text (Enter starts and ends editing).
        case text
        /// Free text over several lines (Enter starts and ends editing, Alt-Enter or Ctrl-J
        /// starts a new line); edited in a wrapped area that opens over the rows below.
        case multilineText
        /// One of the given options (Left/Right or Enter cycle; the value is the option).
        case choice([String])
        /// A button: Enter activates it.
        case action
    }

    /// The name the owner reads the value by.
    var key: String
    var label: String
    var value: String
    var kind: Kind

    /// Creates a field.
    init(_ key: String, _ label: String, _ value: String = "", _ kind: Kind = .text) {
        self.key = key
        self.label = label
        self.value = value
        self.kind = kind
    }
}

/// The state of a form: its fields, the selected row and the editor of the row being typed in.
///
/// Keys: Up/Down (Tab/Shift-Tab) select a row; Left/Right cycle a choice; Enter edits a text
/// row (Enter again keeps the edit, Esc drops it), cycles a choice or activates a button; Esc
/// outside an edit closes the form.
struct FormState: Hashable, Sendable {
    var fields: [FormField]
    var selected = 0
    /// The text being typed into the selected row, while editing.
    var editor: TextInputState?

    /// What a key did.
    enum Outcome: Hashable, Sendable {
        case ignored, moved
        /// The value of the named field changed.
        case changed(String)
        /// The named button was pressed.
        case activated(String)
        /// Esc outside an edit: the owner closes the form.
        case close
    }

    /// Creates a form over `fields`.
    init(fields: [FormField]) { self.fields = fields }

    /// The value of the field named `key` (empty when there is none).
    subscript(key: String) -> String {
        get { fields.first { $0.key == key }?.value ?? "" }
        set { if let i = fields.firstIndex(where: { $0.key == key }) { fields[i].value = newValue } }
    }

    /// Inserts pasted text into the row being edited; false when no row is being edited.
    mutating func paste(_ text: String) -> Bool {
        guard var ed = editor else { return false }
        ed.insert(text)
        editor = ed
        return true
    }

    /// Applies a key.
    mutating func handle(_ e: KeyEvent) -> Outcome {
        guard fields.indices.contains(selected) else { return e.key == .escape ? .close : .ignored }
        if var ed = editor {
            switch e.key {
            case .escape:
                editor = nil
                return .moved
            case .enter where e.modifiers.isEmpty:
                editor = nil
                fields[selected].value = ed.text
                return .changed(fields[selected].key)
            default:
                let r = ed.handle(e)
                editor = ed
                return r == .ignored ? .ignored : .moved
            }
        }
        let field = fields[selected]
        switch e.key {
        case .escape: return .close
        case .up, .backTab:
            selected = max(0, selected - 1)
            return .moved
        case .down, .tab:
            selected = min(fields.count - 1, selected + 1)
            return .moved
        case .left, .right, .enter, .char(" "):
            switch field.kind {
            case .choice(let options):
                guard !options.isEmpty else { return .ignored }
                let i = options.firstIndex(of: field.value) ?? -1
                let step = e.key == .left ? -1 : 1
                fields[selected].value = options[((i + step) % options.count + options.count) % options.count]
                return .changed(field.key)
            case .text, .multilineText:
                guard e.key == .enter else { return .ignored }
                editor = TextInputState(multiline: field.kind == .multilineText, text: field.value)
                return .moved
            case .action:
                guard e.key == .enter || e.key == .char(" ") else { return .ignored }
                return .activated(field.key)
            }
        default: return .ignored
        }
    }
}

/// Draws a form: one row per field, label then value; the selected row highlighted, a choice
/// shown as `‹ value ›`, a button as `[ label ]`, the row being edited as a text input.
struct Form: Widget {
    var state: FormState
    var focused: Bool
    var labelWidth: Int

    /// Creates a form view.
    init(_ state: FormState, focused: Bool = true, labelWidth: Int = 12) {
        self.state = state
        self.focused = focused
        self.labelWidth = labelWidth
    }

    /// Rows the selected field's multi-line editor takes (0 when none is open): what its text
    /// needs plus one, at least 3, at most the area less a row.
    func editorHeight(_ area: Rect) -> Int {
        guard let ed = state.editor, state.fields.indices.contains(state.selected),
            state.fields[state.selected].kind == .multilineText
        else { return 0 }
        let width = area.width - min(labelWidth, area.width)
        return max(1, min(area.height - 1, max(3, TextArea.height(ed, width: width) + 1)))
    }

    func render(into buffer: inout ScreenBuffer, area: Rect) {
        guard !area.isEmpty else { return }
        let editorRows = editorHeight(area)
        let first = max(0, state.selected - area.height + max(1, editorRows))
        for row in 0..<area.height {
            let i = first + row
            guard i < state.fields.count else { break }
            let f = state.fields[i]
            let y = area.y + row
            let isSelected = focused && i == state.selected
            let base: Style = isSelected ? Style(fg: .role(.selectionText), bg: .role(.selection)) : .plain
            if isSelected { buffer.fill(Rect(x: area.x, y: y, width: area.width, height: 1), with: .blank(base)) }
            if case .action = f.kind {
                buffer.put(
                    "[ \(f.label) ]", x: area.x, y: y, style: isSelected ? base.adding(.bold) : .role(.accent, .bold),
                    maxX: area.maxX)
                continue
            }
            let labelW = min(labelWidth, area.width)
            buffer.put(
                DisplayWidth.pad(f.label, to: labelW), x: area.x, y: y, style: isSelected ? base : .role(.textDim),
                maxX: area.x + labelW)
            let valueArea = Rect(x: area.x + labelW, y: y, width: area.width - labelW, height: 1)
            guard !valueArea.isEmpty else { continue }
            if isSelected, let ed = state.editor {
                if editorRows > 0 {
                    // The multi-line editor covers the rows below; they come back when it closes.
                    let box = Rect(x: valueArea.x, y: y, width: valueArea.width, height: min(editorRows, area.maxY - y))
                    buffer.fill(Rect(x: area.x, y: y, width: area.width, height: box.height))
                    buffer.put(
                        DisplayWidth.pad(f.label, to: labelW), x: area.x, y: y, style: base, maxX: area.x + labelW)
                    TextArea(ed).render(into: &buffer, area: box)
                    return
                }
                buffer.fill(valueArea)
                TextInput(ed, focused: true).render(into: &buffer, area: valueArea)
                continue
            }
            let shown: String
            switch f.kind {
            case .choice: shown = "‹ \(f.value) ›"
            case .multilineText:
                let lines = f.value.split(separator: "\n", omittingEmptySubsequences: false)
                shown =
                    f.value.isEmpty
                    ? "—" : lines.count > 1 ? "(\(lines.count) lines) " + f.value.replacingNewlines : f.value
            default: shown = f.value.isEmpty ? "—" : f.value.replacingNewlines
            }
            buffer.put(shown, x: valueArea.x, y: y, style: isSelected ? base : .role(.text), maxX: valueArea.maxX)
        }
    }
}
