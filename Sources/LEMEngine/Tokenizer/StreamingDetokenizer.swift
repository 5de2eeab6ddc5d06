/// Turns a stream of token ids into text increments, never emitting half a code point.
///
/// Keeps a short window of recent ids: the text of the window is decoded again with each new id
/// and only the completed tail is returned. A trailing U+FFFD means a character is still being
/// assembled from byte tokens, so that tail is held back until the next id (or `finish()`).
public struct StreamingDetokenizer: Sendable {
    private let tokenizer: Tokenizer
    private let skipSpecialTokens: Bool
    private var ids: [Int] = []
    private var prefixOffset = 0  // start of the window re-decoded for context
    private var readOffset = 0  // ids before this have been emitted

    /// Starts an empty stream.
    public init(tokenizer: Tokenizer, skipSpecialTokens: Bool = false) {
        self.tokenizer = tokenizer
        self.skipSpecialTokens = skipSpecialTokens
    }

    /// All ids pushed so far.
    public var allIds: [Int] { ids }

    /// Adds one id and returns the newly completed text (possibly empty).
    public mutating func push(_ id: Int) -> String {
        ids.append(id)
        let prefixText = tokenizer.decode(Array(ids[prefixOffset..<readOffset]), skipSpecialTokens: skipSpecialTokens)
        let newText = tokenizer.decode(Array(ids[prefixOffset...]), skipSpecialTokens: skipSpecialTokens)
        guard newText.utf8.count > prefixText.utf8.count, !newText.hasSuffix("\u{FFFD}") else { return "" }
        let delta = Self.suffix(of: newText, after: prefixText)
        prefixOffset = readOffset
        readOffset = ids.count
        return delta
    }

    /// Returns whatever text is still held back (a final incomplete character decodes as U+FFFD).
    public mutating func finish() -> String {
        let prefixText = tokenizer.decode(Array(ids[prefixOffset..<readOffset]), skipSpecialTokens: skipSpecialTokens)
        let newText = tokenizer.decode(Array(ids[prefixOffset...]), skipSpecialTokens: skipSpecialTokens)
        prefixOffset = ids.count
        readOffset = ids.count
        return Self.suffix(of: newText, after: prefixText)
    }

    /// The part of `text` after `prefix` (by UTF-8 bytes, falling back to scalars on mismatch).
    private static func suffix(of text: String, after prefix: String) -> String {
        let t = Array(text.utf8)
        let p = Array(prefix.utf8)
        if t.count >= p.count, Array(t[..<p.count]) == p {
            return String(decoding: t[p.count...], as: UTF8.self)
        }
        let ts = Array(text.unicodeScalars)
        let ps = Array(prefix.unicodeScalars)
        var k = 0
        while k < ts.count, k < ps.count, ts[k] == ps[k] { k += 1 }
        return String(String.UnicodeScalarView(ts[k...]))
    }
}

extension StreamingDetokenizer: StreamingTextDecoder {}
