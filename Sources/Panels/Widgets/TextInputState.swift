/// The editable text of an input box: lines, a cursor, and a history of submitted entries.
///
/// Editing keys: arrows, Home/End (Ctrl-A/Ctrl-E), Backspace/Delete, Ctrl-W (delete word),
/// Ctrl-U / Ctrl-K (delete to start / end of line), Alt-Enter or Ctrl-J (new line when
/// multiline), Enter (submit), Up/Down on the first/last line (history).
public struct TextInputState: Hashable, Sendable {
    /// The lines being edited (always at least one).
    public private(set) var lines: [[Character]] = [[]]
    public private(set) var row = 0
    public private(set) var column = 0
    public var multiline: Bool
    public private(set) var history: [String] = []
    var historyIndex: Int? = nil
    var draft: String = ""

    /// What a key did to the input.
    public enum Outcome: Hashable, Sendable {
        case ignored, moved, edited
        case submitted(String)
    }

    /// Creates an empty input.
    public init(multiline: Bool = false, text: String = "") {
        self.multiline = multiline
        setText(text)
    }

    /// The full text, lines joined by newlines.
    public var text: String { lines.map { String($0) }.joined(separator: "\n") }
    public var isEmpty: Bool { lines.count == 1 && lines[0].isEmpty }

    /// Replaces the text and puts the cursor at its end.
    public mutating func setText(_ s: String) {
        let parts = s.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0) }
        lines = multiline ? (parts.isEmpty ? [[]] : parts) : [Array(s.replacingNewlines)]
        row = lines.count - 1
        column = lines[row].count
    }

    /// Inserts `text` at the cursor as typed characters: line breaks (`\r\n`, `\r`, `\n`) start
    /// new lines in a multiline input and become spaces in a one-line input; tabs become spaces
    /// and other control characters are dropped. Returns whether anything was inserted.
    @discardableResult
    public mutating func insert(_ text: String) -> Bool {
        let normalized = text.replacing("\r\n", with: "\n").replacing("\r", with: "\n")
        var inserted = false
        for ch in normalized {
            if ch == "\n" {
                if multiline {
                    insertNewline()
                } else {
                    lines[row].insert(" ", at: column)
                    column += 1
                }
                inserted = true
                continue
            }
            let c: Character = ch == "\t" ? " " : ch
            guard !(c.isASCII && (c.asciiValue! < 0x20 || c.asciiValue! == 0x7F)) else { continue }
            lines[row].insert(c, at: column)
            column += 1
            inserted = true
        }
        return inserted
    }

    /// Adds an entry to the history (skipping blanks and immediate repeats).
    public mutating func remember(_ s: String) {
        guard !s.allSatisfy({ $0 == " " || $0 == "\n" }), history.last != s else { return }
        history.append(s)
    }

    /// Applies a key and reports what happened.
    public mutating func handle(_ e: KeyEvent) -> Outcome {
        let ctrl = e.modifiers.contains(.ctrl)
        let alt = e.modifiers.contains(.alt)
        switch e.key {
        case .enter where alt || e.modifiers.contains(.shift):
            guard multiline else { return .ignored }
            insertNewline()
            return .edited
        case .char("j") where ctrl:
            guard multiline else { return .ignored }
            insertNewline()
            return .edited
        case .enter:
            let t = text
            remember(t)
            historyIndex = nil
            setText("")
            return .submitted(t)
        case .char("a") where ctrl, .home:
            column = 0
            return .moved
        case .char("e") where ctrl, .end:
            column = lines[row].count
            return .moved
        case .char("u") where ctrl:
            lines[row].removeSubrange(0..<column)
            column = 0
            return .edited
        case .char("k") where ctrl:
            lines[row].removeSubrange(column...)
            return .edited
        case .char("w") where ctrl:
            var c = column
            while c > 0, lines[row][c - 1] == " " { c -= 1 }
            while c > 0, lines[row][c - 1] != " " { c -= 1 }
            lines[row].removeSubrange(c..<column)
            column = c
            return .edited
        case .char(let ch) where !ctrl && !alt:
            lines[row].insert(ch, at: column)
            column += 1
            return .edited
        case .backspace:
            if column > 0 {
                lines[row].remove(at: column - 1)
                column -= 1
            } else if row > 0 {
                column = lines[row - 1].count
                lines[row - 1] += lines[row]
                lines.remove(at: row)
                row -= 1
            } else {
                return .handledNothing
            }
            return .edited
        case .delete:
            if column < lines[row].count {
                lines[row].remove(at: column)
            } else if row + 1 < lines.count {
                lines[row] += lines[row + 1]
                lines.remove(at: row + 1)
            } else {
                return .handledNothing
            }
            return .edited
        case .left:
            if column > 0 {
                column -= 1
            } else if row > 0 {
                row -= 1
                column = lines[row].count
            }
            return .moved
        case .right:
            if column < lines[row].count {
                column += 1
            } else if row + 1 < lines.count {
                row += 1
                column = 0
            }
            return .moved
        case .up:
            if row > 0 {
                row -= 1
                column = min(column, lines[row].count)
                return .moved
            }
            return recall(-1)
        case .down:
            if row + 1 < lines.count {
                row += 1
                column = min(column, lines[row].count)
                return .moved
            }
            return recall(+1)
        default:
            return .ignored
        }
    }

    mutating func insertNewline() {
        let tail = Array(lines[row][column...])
        lines[row].removeSubrange(column...)
        lines.insert(tail, at: row + 1)
        row += 1
        column = 0
    }

    /// Steps through the history; the unsent draft is kept as the newest entry.
    mutating func recall(_ step: Int) -> Outcome {
        guard !history.isEmpty else { return .ignored }
        let current = historyIndex ?? history.count
        if historyIndex == nil { draft = text }
        let next = min(history.count, max(0, current + step))
        guard next != current else { return .ignored }
        historyIndex = next == history.count ? nil : next
        setText(next == history.count ? draft : history[next])
        return .edited
    }
}

extension TextInputState.Outcome {
    /// A key that was understood but changed nothing (e.g. Backspace at the start).
    static let handledNothing = TextInputState.Outcome.moved
}

/// Draws a `TextInputState`: the lines around the cursor, the cursor as a reversed cell.
public struct TextInput: Widget {
    public var state: TextInputState
    public var focused: Bool
    public var placeholder: String

    /// Creates an input view.
    public init(_ state: TextInputState, focused: Bool, placeholder: String = "") {
        self.state = state
        self.focused = focused
        self.placeholder = placeholder
    }

    public func render(into buffer: inout ScreenBuffer, area: Rect) {
        guard !area.isEmpty else { return }
        if state.isEmpty, !placeholder.isEmpty {
            buffer.put(placeholder, x: area.x + 1, y: area.y, style: .role(.textDim, .italic), maxX: area.maxX)
        }
        let firstRow = max(0, state.row - area.height + 1)
        for r in 0..<area.height {
            let i = firstRow + r
            guard i < state.lines.count else { break }
            let line = state.lines[i]
            // Scroll horizontally so the cursor column stays visible.
            var start = 0
            if i == state.row {
                while DisplayWidth.width(of: String(line[start..<state.column])) >= area.width, start < state.column {
                    start += 1
                }
            }
            buffer.put(String(line[start...]), x: area.x, y: area.y + r, style: .role(.text), maxX: area.maxX)
            if focused, i == state.row {
                let cx = area.x + DisplayWidth.width(of: String(line[start..<state.column]))
                if cx < area.maxX {
                    let under = state.column < line.count ? String(line[state.column]) : " "
                    buffer.set(cx, area.y + r, Cell(under, style: Style(fg: .role(.cursor), attributes: .reverse)))
                }
            }
        }
    }
}
