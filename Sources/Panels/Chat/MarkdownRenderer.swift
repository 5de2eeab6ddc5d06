/// Renders Markdown-ish text into wrapped styled lines: `#` headings, `**bold**`, `` `code` ``,
/// `-`/`*`/`1.` lists, fenced code blocks (an unclosed fence, as while streaming, stays code)
/// and blank lines.
enum MarkdownRenderer {
    /// The rendered lines of `text` at `width` columns, on top of `base` style.
    static func render(_ text: String, width: Int, base: Style = .role(.text)) -> [StyledLine] {
        guard width > 0 else { return [] }
        var out: [StyledLine] = []
        var inCode = false
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            if line.trimmed.hasPrefix("```") {
                inCode.toggle()
                let lang = String(line.trimmed.dropFirst(3))
                if inCode, !lang.isEmpty {
                    out.append(StyledLine(DisplayWidth.truncate(" \(lang)", to: width), .role(.textDim, .italic)))
                }
                continue
            }
            if inCode {
                let code = StyledLine("  " + line, Style(fg: .role(.code), bg: .role(.codeBackground)))
                for var l in code.wrapped(to: width) {
                    let pad = width - l.width
                    if pad > 0 { l.append(String(repeating: " ", count: pad), Style(bg: .role(.codeBackground))) }
                    out.append(l)
                }
                continue
            }
            if line.trimmed.isEmpty {
                out.append(StyledLine())
                continue
            }
            if let level = headingLevel(line) {
                let title = String(line.drop(while: { $0 == "#" }).drop(while: { $0 == " " }))
                let style = Style(fg: .role(.heading), attributes: level == 1 ? [.bold, .underline] : .bold)
                out += StyledLine(inline(title, base: style)).wrapped(to: width)
                continue
            }
            let indent = line.prefix(while: { $0 == " " }).count
            let body = line.dropFirst(indent)
            if body.hasPrefix("- ") || body.hasPrefix("* ") || body.hasPrefix("+ ") {
                var l = StyledLine(String(repeating: " ", count: indent) + "• ", .role(.accent))
                l.spans += inline(String(body.dropFirst(2)), base: base)
                out += l.wrapped(to: width, indent: indent + 2)
                continue
            }
            if let dot = body.firstIndex(of: "."), body[..<dot].allSatisfy(\.isNumber), !body[..<dot].isEmpty,
                body[body.index(after: dot)...].hasPrefix(" ")
            {
                let marker = String(body[...dot]) + " "
                var l = StyledLine(String(repeating: " ", count: indent) + marker, .role(.accent))
                l.spans += inline(String(body[body.index(dot, offsetBy: 2)...]), base: base)
                out += l.wrapped(to: width, indent: indent + marker.count)
                continue
            }
            out += StyledLine(inline(line, base: base)).wrapped(to: width)
        }
        return out
    }

    static func headingLevel(_ line: String) -> Int? {
        let hashes = line.prefix(while: { $0 == "#" }).count
        guard (1...6).contains(hashes), line.dropFirst(hashes).hasPrefix(" ") else { return nil }
        return hashes
    }

    /// Splits a line into spans for `**bold**` and `` `code` `` (markers removed; unmatched
    /// markers are kept as text).
    static func inline(_ text: String, base: Style) -> [StyledSpan] {
        var spans: [StyledSpan] = []
        var current = ""
        var bold = false
        var code = false
        let chars = Array(text)
        func style() -> Style {
            if code { return Style(fg: .role(.code), bg: .role(.codeBackground)) }
            return bold ? base.patched(with: Style(fg: .role(.bold), attributes: .bold)) : base
        }
        func flush() {
            if !current.isEmpty {
                spans.append(StyledSpan(current, style()))
                current = ""
            }
        }
        var i = 0
        while i < chars.count {
            if chars[i] == "`", code || chars[(i + 1)...].contains("`") {
                flush()
                code.toggle()
                i += 1
                continue
            }
            if !code, chars[i] == "*", i + 1 < chars.count, chars[i + 1] == "*" {
                let rest = chars[(i + 2)...]
                let closes = bold || zip(rest, rest.dropFirst()).contains { $0 == "*" && $1 == "*" }
                if closes {
                    flush()
                    bold.toggle()
                    i += 2
                    continue
                }
            }
            current.append(chars[i])
            i += 1
        }
        flush()
        return spans
    }
}

/// Small number formatting helpers (no Foundation in Panels).
enum Fmt {
    /// `v` with `digits` decimals (rounded half away from zero).
    static func fixed(_ v: Double, _ digits: Int) -> String {
        guard v.isFinite else { return v.isNaN ? "nan" : (v > 0 ? "inf" : "-inf") }
        var p = 1.0
        for _ in 0..<digits { p *= 10 }
        let scaled = (abs(v) * p).rounded()
        guard scaled < 9e15 else { return "\(v)" }
        let n = Int64(scaled)
        let whole = n / Int64(p)
        let frac = n % Int64(p)
        var s = (v < 0 && n != 0 ? "-" : "") + "\(whole)"
        if digits > 0 {
            let f = String(frac)
            s += "." + String(repeating: "0", count: digits - f.count) + f
        }
        return s
    }

    /// A compact count: 950, 12.3k, 4.56M.
    static func count(_ v: Double) -> String {
        let a = abs(v)
        if a >= 1e9 { return fixed(v / 1e9, 2) + "G" }
        if a >= 1e6 { return fixed(v / 1e6, 2) + "M" }
        if a >= 1e4 { return fixed(v / 1e3, 1) + "k" }
        return fixed(v, 0)
    }

    /// A duration as `1h02m`, `3m05s` or `12s`.
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--" }
        let s = Int(seconds.rounded())
        if s >= 3600 { return "\(s / 3600)h" + pad2(s % 3600 / 60) + "m" }
        if s >= 60 { return "\(s / 60)m" + pad2(s % 60) + "s" }
        return "\(s)s"
    }

    static func pad2(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// A loss or other small quantity with 4 significant-ish digits.
    static func value(_ v: Double) -> String {
        let a = abs(v)
        if a == 0 { return "0" }
        if a >= 100 { return fixed(v, 1) }
        if a >= 1 { return fixed(v, 3) }
        if a >= 0.001 { return fixed(v, 4) }
        // Scientific for tiny values such as learning rates.
        var e = 0
        var m = a
        while m < 1 {
            m *= 10
            e -= 1
        }
        return (v < 0 ? "-" : "") + fixed(m, 1) + "e\(e)"
    }
}
