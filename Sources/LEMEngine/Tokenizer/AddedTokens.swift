/// A token matched as a whole in the input before the model sees it (tokenizer.json `added_tokens`).
public struct AddedToken: Sendable, Equatable {
    /// The token id.
    public var id: Int
    /// The literal text matched in the input.
    public var content: String
    /// Special tokens (control tokens) are skipped by `decode(skipSpecialTokens: true)`.
    public var special: Bool
    /// The match absorbs whitespace on its left.
    public var lstrip: Bool = false
    /// The match absorbs whitespace on its right.
    public var rstrip: Bool = false
    /// Matched in normalized text rather than raw input.
    public var normalized: Bool = false
    /// Only matched when not inside a word.
    public var singleWord: Bool = false
}

/// Finds added tokens in text: leftmost match first, longest among those starting there.
struct AddedTokenMatcher: Sendable {
    /// A piece of input: either an added token or text between tokens.
    enum Segment {
        case token(Int)
        case text(Range<Int>)
    }

    private var children: [[UInt32: Int32]] = [[:]]  // (nodes) scalar → child node
    private var terminal: [Int32] = [-1]  // (nodes) index into `tokens`, or -1
    private let tokens: [AddedToken]

    init(_ tokens: [AddedToken]) {
        self.tokens = tokens
        for (k, token) in tokens.enumerated() where !token.content.isEmpty {
            var node = 0
            for s in token.content.unicodeScalars {
                if let child = children[node][s.value] {
                    node = Int(child)
                } else {
                    children.append([:])
                    terminal.append(-1)
                    children[node][s.value] = Int32(children.count - 1)
                    node = children.count - 1
                }
            }
            terminal[node] = Int32(k)
        }
    }

    var isEmpty: Bool { tokens.isEmpty }

    private static func isWordScalar(_ s: Unicode.Scalar) -> Bool {
        let c = SplitPattern.charClass(s)
        return c == .letter || c == .number || s == "_"
    }

    /// Splits `text` into added tokens and the text between them.
    func split(_ text: [Unicode.Scalar]) -> [Segment] {
        guard !tokens.isEmpty else { return [.text(0..<text.count)] }
        var segments: [Segment] = []
        var textStart = 0
        var i = 0
        let n = text.count
        let root = children[0]
        while i < n {
            guard var node = root[text[i].value].map(Int.init) else {
                i += 1
                continue
            }
            var best = -1
            var bestEnd = -1
            var j = i + 1
            while true {
                if terminal[node] >= 0 {
                    let token = tokens[Int(terminal[node])]
                    let boundaryOK =
                        !token.singleWord
                        || ((i == 0 || !Self.isWordScalar(text[i - 1])) && (j == n || !Self.isWordScalar(text[j])))
                    if boundaryOK {
                        best = Int(terminal[node])
                        bestEnd = j
                    }
                }
                guard j < n, let child = children[node][text[j].value] else { break }
                node = Int(child)
                j += 1
            }
            guard best >= 0 else {
                i += 1
                continue
            }
            let token = tokens[best]
            var start = i
            var end = bestEnd
            if token.lstrip { while start > textStart, text[start - 1].properties.isWhitespace { start -= 1 } }
            if token.rstrip { while end < n, text[end].properties.isWhitespace { end += 1 } }
            if start > textStart { segments.append(.text(textStart..<start)) }
            segments.append(.token(token.id))
            textStart = end
            i = end
        }
        if textStart < n { segments.append(.text(textStart..<n)) }
        return segments
    }
}
