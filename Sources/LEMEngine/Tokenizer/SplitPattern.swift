/// The pre-tokenizer split regexes of the GPT-2, Llama 3 and Qwen2 families, matched by hand.
///
/// A general regex engine differs between libraries on Unicode classes; these three patterns are
/// small enough to match exactly with Unicode general categories. Alternatives are tried in the
/// order the regex lists them (leftmost alternative wins, as in Oniguruma), not longest-first.
public enum SplitPattern: Sendable, Equatable {
    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    case gpt2
    /// `(?i:'s|…|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    case llama3
    /// As `llama3` but with single digits (`\p{N}`).
    case qwen2

    /// The regex source text each case stands for, as written in tokenizer.json files.
    public static let sources: [(String, SplitPattern)] = [
        (#"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#, .gpt2),
        (
            #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#,
            .llama3
        ),
        (
            #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#,
            .qwen2
        )
    ]

    /// The pattern whose regex source is `source`, or nil if it is not one of the known ones.
    public static func recognize(_ source: String) -> SplitPattern? {
        sources.first { $0.0 == source }?.1
    }

    /// Character classes the patterns distinguish.
    enum CharClass: UInt8 { case letter, number, space, other }

    /// The class of a scalar: `\p{L}`, `\p{N}`, `\s` (White_Space) or anything else.
    @inline(__always)
    static func charClass(_ s: Unicode.Scalar) -> CharClass {
        let v = s.value
        if v < 128 {
            if (v >= 65 && v <= 90) || (v >= 97 && v <= 122) { return .letter }
            if v >= 48 && v <= 57 { return .number }
            if v == 32 || (v >= 9 && v <= 13) { return .space }
            return .other
        }
        if s.properties.isWhitespace { return .space }
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }

    /// The end offsets of consecutive matches covering `text` (every scalar belongs to one match).
    public func matchEnds(_ text: [Unicode.Scalar]) -> [Int] {
        let classes = text.map(SplitPattern.charClass)
        var ends: [Int] = []
        var i = 0
        while i < text.count {
            let end: Int
            switch self {
            case .gpt2: end = matchGPT2(text, classes, i)
            case .llama3: end = matchLlama(text, classes, i, maxDigits: 3)
            case .qwen2: end = matchLlama(text, classes, i, maxDigits: 1)
            }
            ends.append(end)
            i = end
        }
        return ends
    }

    /// The end of the contraction suffix at `i` (`'s`, `'t`, `'re`, `'ve`, `'m`, `'ll`, `'d`), or nil.
    private func contraction(_ t: [Unicode.Scalar], _ i: Int, ignoreCase: Bool) -> Int? {
        guard t[i] == "'", i + 1 < t.count else { return nil }
        func lower(_ k: Int) -> Unicode.Scalar? {
            guard k < t.count else { return nil }
            let s = t[k]
            if ignoreCase, s.value >= 65, s.value <= 90 { return Unicode.Scalar(s.value + 32) }
            return s
        }
        switch lower(i + 1) {
        case "s", "t", "m", "d": return i + 2
        case "r": return lower(i + 2) == "e" ? i + 3 : nil
        case "v": return lower(i + 2) == "e" ? i + 3 : nil
        case "l": return lower(i + 2) == "l" ? i + 3 : nil
        default: return nil
        }
    }

    /// The end of the run of scalars of class `cls` starting at `i` (at most `limit` long).
    @inline(__always)
    private func run(_ c: [CharClass], _ i: Int, _ cls: CharClass, limit: Int = .max) -> Int {
        var j = i
        while j < c.count, c[j] == cls, j - i < limit { j += 1 }
        return j
    }

    /// `\s+(?!\S)|\s+` at `i` (a whitespace scalar): the run, minus its last scalar when text follows.
    private func whitespace(_ c: [CharClass], _ i: Int) -> Int {
        let j = run(c, i, .space)
        if j == c.count || j - 1 == i { return j }
        return j - 1
    }

    private func matchGPT2(_ t: [Unicode.Scalar], _ c: [CharClass], _ i: Int) -> Int {
        if let end = contraction(t, i, ignoreCase: false) { return end }
        let n = c.count
        let spaced = t[i] == " " && i + 1 < n
        for cls in [CharClass.letter, .number, .other] {
            if spaced && c[i + 1] == cls { return run(c, i + 1, cls) }
            if c[i] == cls { return run(c, i, cls) }
        }
        return whitespace(c, i)
    }

    private func matchLlama(_ t: [Unicode.Scalar], _ c: [CharClass], _ i: Int, maxDigits: Int) -> Int {
        if let end = contraction(t, i, ignoreCase: true) { return end }
        let n = c.count
        // [^\r\n\p{L}\p{N}]?\p{L}+
        let isNewline = t[i] == "\r" || t[i] == "\n"
        if c[i] != .letter && c[i] != .number && !isNewline && i + 1 < n && c[i + 1] == .letter {
            return run(c, i + 1, .letter)
        }
        if c[i] == .letter { return run(c, i, .letter) }
        // \p{N}{1,maxDigits}
        if c[i] == .number { return run(c, i, .number, limit: maxDigits) }
        // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
        var start = -1
        if t[i] == " " && i + 1 < n && c[i + 1] == .other { start = i + 1 } else if c[i] == .other { start = i }
        if start >= 0 {
            var j = run(c, start, .other)
            while j < n && (t[j] == "\r" || t[j] == "\n") { j += 1 }
            return j
        }
        // \s*[\r\n]+ : the whitespace run up to and including its last newline.
        let j = run(c, i, .space)
        var k = j - 1
        while k >= i && t[k] != "\r" && t[k] != "\n" { k -= 1 }
        if k >= i { return k + 1 }
        return whitespace(c, i)
    }
}
