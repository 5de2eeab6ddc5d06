/// String operations at the Unicode-scalar level (no canonical equivalence, no grapheme joining),
/// as tokenizers need: a `▁` followed by a combining mark is still a `▁`.
enum TextOps {
    /// Replaces every occurrence of `pattern` with `replacement`, scalar by scalar.
    static func replace(_ text: String, _ pattern: String, _ replacement: String) -> String {
        let p = Array(pattern.unicodeScalars)
        guard let first = p.first else { return text }
        let s = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        while i < s.count {
            if s[i] == first, i + p.count <= s.count, s[i..<(i + p.count)].elementsEqual(p) {
                out.append(contentsOf: replacement.unicodeScalars)
                i += p.count
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return String(out)
    }
}
