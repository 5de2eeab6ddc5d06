import LEMFormats

/// Splits a Jinja template into text and tags, applying whitespace control the way transformers
/// configures Jinja for chat templates (`trim_blocks=True`, `lstrip_blocks=True`, `{%-`/`-%}`).
enum JinjaLexer {
    /// A piece of template source.
    enum Piece: Equatable {
        case text(String)
        case output([JinjaToken], line: Int)
        case statement([JinjaToken], line: Int)
    }

    /// Splits `source` into pieces.
    static func pieces(_ source: String) throws -> [Piece] {
        let s = Array(source.unicodeScalars)
        var out: [Piece] = []
        var text: [Unicode.Scalar] = []
        var i = 0
        var line = 1
        var stripNextLeading = false  // set by `-%}` / `-}}` / `-#}`
        var trimNextNewline = false  // trim_blocks after `%}` / `#}`
        func flushText() {
            if !text.isEmpty {
                out.append(.text(String(String.UnicodeScalarView(text))))
                text.removeAll()
            }
        }
        while i < s.count {
            let isTag = s[i] == "{" && i + 1 < s.count && (s[i + 1] == "{" || s[i + 1] == "%" || s[i + 1] == "#")
            if !isTag {
                if stripNextLeading {
                    if s[i].properties.isWhitespace {
                        if s[i] == "\n" { line += 1 }
                        i += 1
                        continue
                    }
                    stripNextLeading = false
                }
                if trimNextNewline {
                    trimNextNewline = false
                    if s[i] == "\n" {
                        line += 1
                        i += 1
                        continue
                    }
                    if s[i] == "\r" && i + 1 < s.count && s[i + 1] == "\n" {
                        line += 1
                        i += 2
                        continue
                    }
                }
                if s[i] == "\n" { line += 1 }
                text.append(s[i])
                i += 1
                continue
            }
            stripNextLeading = false
            trimNextNewline = false
            let kind = s[i + 1]
            let tagLine = line
            var j = i + 2
            let modifier: Unicode.Scalar? = j < s.count && (s[j] == "-" || s[j] == "+") ? s[j] : nil
            if modifier != nil { j += 1 }
            // Whitespace control on the text before the tag.
            if modifier == "-" {
                while let last = text.last, last.properties.isWhitespace { text.removeLast() }
            } else if kind != "{" && modifier != "+" {
                // lstrip_blocks: drop spaces/tabs between the line start and a block or comment tag.
                // Judged on the source, as Jinja does: only spaces/tabs since the last newline.
                var k = i
                while k > 0, s[k - 1] == " " || s[k - 1] == "\t" { k -= 1 }
                if k == 0 || s[k - 1] == "\n" {
                    var n = i - k
                    while n > 0, let last = text.last, last == " " || last == "\t" {
                        text.removeLast()
                        n -= 1
                    }
                }
            }
            flushText()
            let close: Unicode.Scalar = kind == "{" ? "}" : kind == "%" ? "%" : "#"
            if kind == "#" {
                // Comment: skip to `#}`.
                var k = j
                while k + 1 < s.count, !(s[k] == "#" && s[k + 1] == "}") {
                    if s[k] == "\n" { line += 1 }
                    k += 1
                }
                guard k + 1 < s.count else { throw TemplateError.syntax(line: tagLine, message: "unclosed comment {#") }
                if s[k - 1] == "-" { stripNextLeading = true } else { trimNextNewline = true }
                i = k + 2
                continue
            }
            var lexer = JinjaTokenizer(scalars: s, position: j, line: line)
            let tokens = try lexer.tokens(until: close)
            line = lexer.line
            i = lexer.position
            if lexer.stripAfter { stripNextLeading = true } else if kind == "%" { trimNextNewline = true }
            if kind == "{" {
                out.append(.output(tokens, line: tagLine))
            } else if tokens.first == .name("raw") {
                // {% raw %} … {% endraw %}: copy verbatim.
                var k = i
                var found = false
                while k + 1 < s.count {
                    if s[k] == "{" && s[k + 1] == "%", let end = endRawTag(s, after: k + 2) {
                        out.append(.text(String(String.UnicodeScalarView(s[i..<k]))))
                        i = end
                        found = true
                        break
                    }
                    k += 1
                }
                if !found { throw TemplateError.syntax(line: tagLine, message: "{% raw %} without {% endraw %}") }
            } else {
                out.append(.statement(tokens, line: tagLine))
            }
        }
        flushText()
        return out
    }

    /// The position after `[-] endraw [-]%}` starting at `k` (just after `{%`), nil if there is
    /// none. Looks at a bounded stretch, so scanning a long raw block stays linear.
    private static func endRawTag(_ s: [Unicode.Scalar], after k: Int) -> Int? {
        var j = k
        if j < s.count, s[j] == "-" || s[j] == "+" { j += 1 }
        while j < s.count, s[j] == " " || s[j] == "\t" || s[j] == "\n" || s[j] == "\r" { j += 1 }
        for c in "endraw".unicodeScalars {
            guard j < s.count, s[j] == c else { return nil }
            j += 1
        }
        while j < s.count, s[j] == " " || s[j] == "\t" || s[j] == "\n" || s[j] == "\r" { j += 1 }
        if j < s.count, s[j] == "-" || s[j] == "+" { j += 1 }
        guard j + 1 < s.count, s[j] == "%", s[j + 1] == "}" else { return nil }
        return j + 2
    }
}

/// A token inside `{{ }}` or `{% %}`.
enum JinjaToken: Equatable {
    case name(String)
    case string(String)
    case int(Int)
    case float(Double)
    case op(String)
}

/// Tokenizes the inside of one tag up to its closing delimiter.
struct JinjaTokenizer {
    let scalars: [Unicode.Scalar]
    var position: Int
    var line: Int
    var stripAfter = false

    private static let operators = [
        "**", "//", "==", "!=", "<=", ">=", "(", ")", "[", "]", "{", "}", ",", ".", ":",
        "|", "~", "+", "-", "*", "/", "%", "<", ">", "=", ";"
    ]

    mutating func tokens(until close: Unicode.Scalar) throws -> [JinjaToken] {
        var out: [JinjaToken] = []
        let s = scalars
        let startLine = line
        while position < s.count {
            let c = s[position]
            if c == "\n" {
                line += 1
                position += 1
                continue
            }
            if c.properties.isWhitespace {
                position += 1
                continue
            }
            // Closing delimiter, optionally preceded by `-` or `+`.
            if (c == "-" || c == "+") && position + 2 < s.count + 1 && position + 1 < s.count
                && s[position + 1] == close && position + 2 < s.count && s[position + 2] == "}"
            {
                stripAfter = c == "-"
                position += 3
                return out
            }
            if c == close && position + 1 < s.count && s[position + 1] == "}" {
                position += 2
                return out
            }
            if c == "\"" || c == "'" {
                out.append(.string(try stringLiteral(quote: c)))
                continue
            }
            if c.properties.numericType != nil && c.value < 128 {
                var k = position
                while k < s.count, s[k].value >= 48 && s[k].value <= 57 || s[k] == "_" { k += 1 }
                var isFloat = false
                if k + 1 < s.count, s[k] == ".", s[k + 1].value >= 48 && s[k + 1].value <= 57 {
                    isFloat = true
                    k += 1
                    while k < s.count, s[k].value >= 48 && s[k].value <= 57 { k += 1 }
                }
                let text = String(String.UnicodeScalarView(s[position..<k])).replacingOccurrences(of: "_", with: "")
                if isFloat {
                    out.append(.float(Double(text) ?? 0))
                } else {
                    guard let value = Int(text) else {
                        throw TemplateError.syntax(
                            line: line,
                            message: "integer literal \(ErrorText.clip(text, limit: 40)) does not fit in 64 bits")
                    }
                    out.append(.int(value))
                }
                position = k
                continue
            }
            if c == "_" || c.properties.isAlphabetic {
                var k = position
                while k < s.count, s[k] == "_" || s[k].properties.isAlphabetic || (s[k].value >= 48 && s[k].value <= 57)
                { k += 1 }
                out.append(.name(String(String.UnicodeScalarView(s[position..<k]))))
                position = k
                continue
            }
            var matched = false
            for op in Self.operators {
                let opScalars = Array(op.unicodeScalars)
                if position + opScalars.count <= s.count, Array(s[position..<(position + opScalars.count)]) == opScalars
                {
                    out.append(.op(op))
                    position += opScalars.count
                    matched = true
                    break
                }
            }
            if !matched {
                throw TemplateError.syntax(line: line, message: "unexpected character \"\(ErrorText.clip(String(c)))\"")
            }
        }
        throw TemplateError.syntax(line: startLine, message: "tag opened here is never closed")
    }

    private mutating func stringLiteral(quote: Unicode.Scalar) throws -> String {
        let startLine = line
        position += 1
        var out = String.UnicodeScalarView()
        while position < scalars.count {
            let c = scalars[position]
            if c == quote {
                position += 1
                return String(out)
            }
            if c == "\n" { line += 1 }
            if c == "\\" && position + 1 < scalars.count {
                let e = scalars[position + 1]
                position += 2
                switch e {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "\\": out.append("\\")
                case "'": out.append("'")
                case "\"": out.append("\"")
                case "0": out.append("\0")
                case "u", "x":
                    let n = e == "u" ? 4 : 2
                    guard position + n <= scalars.count,
                        let v = UInt32(String(String.UnicodeScalarView(scalars[position..<(position + n)])), radix: 16),
                        let u = Unicode.Scalar(v)
                    else {
                        throw TemplateError.syntax(line: line, message: "bad \\\(e) escape in string literal")
                    }
                    out.append(u)
                    position += n
                default:
                    out.append("\\")
                    out.append(e)
                }
                continue
            }
            out.append(c)
            position += 1
        }
        throw TemplateError.syntax(line: startLine, message: "unterminated string literal")
    }
}
