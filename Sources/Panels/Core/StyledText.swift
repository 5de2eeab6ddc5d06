/// A run of text in one style.
public struct StyledSpan: Hashable, Sendable {
    public var text: String
    public var style: Style

    /// Creates a span.
    public init(_ text: String, _ style: Style = .plain) {
        self.text = text
        self.style = style
    }
}

/// One line of styled text: spans laid end to end.
public struct StyledLine: Hashable, Sendable, ExpressibleByStringLiteral {
    public var spans: [StyledSpan]

    /// Creates a line from spans.
    public init(_ spans: [StyledSpan] = []) { self.spans = spans }
    /// Creates a line of plain or single-styled text.
    public init(_ text: String, _ style: Style = .plain) { spans = [StyledSpan(text, style)] }
    public init(stringLiteral value: String) { spans = [StyledSpan(value)] }

    /// The concatenated text.
    public var text: String { spans.map(\.text).joined() }
    /// The display width in columns.
    public var width: Int { spans.reduce(0) { $0 + DisplayWidth.width(of: $1.text) } }

    /// Appends a span.
    public mutating func append(_ text: String, _ style: Style = .plain) {
        if let last = spans.last, last.style == style {
            spans[spans.count - 1].text += text
        } else {
            spans.append(StyledSpan(text, style))
        }
    }

    /// Wraps the line to `width` columns, breaking at spaces when possible, inside words that
    /// are longer than a line, and always at a line break in the text (which is not drawn).
    /// Continuation lines start with `indent` spaces.
    public func wrapped(to width: Int, indent: Int = 0) -> [StyledLine] {
        guard width > 0 else { return [] }
        // Tokenise into words with their trailing spaces, each character keeping its style; a
        // line break is a piece of its own.
        var pieces: [(text: String, style: Style, isSpace: Bool, isBreak: Bool)] = []
        for span in spans {
            var word = ""
            var inSpace = false
            for ch in span.text {
                if ch.isNewline {
                    if !word.isEmpty { pieces.append((word, span.style, inSpace, false)) }
                    pieces.append(("", span.style, false, true))
                    word = ""
                    inSpace = false
                    continue
                }
                let sp = ch == " "
                if !word.isEmpty, sp != inSpace {
                    pieces.append((word, span.style, inSpace, false))
                    word = ""
                }
                inSpace = sp
                word.append(ch)
            }
            if !word.isEmpty { pieces.append((word, span.style, inSpace, false)) }
        }
        var lines: [StyledLine] = []
        var current = StyledLine()
        var used = 0
        let contIndent = min(indent, max(0, width - 1))
        func newLine() {
            lines.append(current)
            current = StyledLine()
            if contIndent > 0 { current.append(String(repeating: " ", count: contIndent)) }
            used = contIndent
        }
        for piece in pieces {
            if piece.isBreak {
                newLine()
                continue
            }
            let w = DisplayWidth.width(of: piece.text)
            if piece.isSpace {
                if used + w <= width {
                    current.append(piece.text, piece.style)
                    used += w
                } else if used > contIndent {
                    newLine()
                }
                continue
            }
            if used + w > width, used > contIndent, w <= width - contIndent { newLine() }
            if used + w <= width {
                current.append(piece.text, piece.style)
                used += w
                continue
            }
            // Hard-break a word longer than the line.
            for ch in piece.text {
                let cw = DisplayWidth.width(of: ch)
                if used + cw > width, used > contIndent { newLine() }
                current.append(String(ch), piece.style)
                used += cw
            }
        }
        lines.append(current)
        return lines
    }
}
