import Foundation

/// A text tokenizer (BPE, byte-level or SentencePiece style) loaded from tokenizer.json or GGUF.
///
/// Immutable after loading, so one instance can be shared across threads. Encoding follows the
/// HF tokenizers pipeline: added tokens are matched in the raw input, the rest is normalized,
/// pre-tokenized and merged by the BPE model, and the post-processor adds BOS/EOS.
public struct Tokenizer: Sendable {
    /// The BPE model (vocabulary and merges).
    public let model: BPEModel
    let normalizer: Normalizer?
    let preTokenizer: PreTokenizer?
    let decoder: TokenDecoder?
    /// Tokens matched whole in the input (special and user-defined).
    public let addedTokens: [AddedToken]
    let rawMatcher: AddedTokenMatcher
    let normalizedMatcher: AddedTokenMatcher
    let idToPiece: [String?]  // (vocabSize) piece text, nil for holes
    let specialIds: Set<Int>
    /// Ids the post-processor puts before the text (e.g. BOS).
    public let prefixIds: [Int]
    /// Ids the post-processor puts after the text (e.g. EOS).
    public let suffixIds: [Int]
    let byteLevelInput: Bool

    /// The beginning-of-sequence token, if the model has one.
    public let bosTokenId: Int?
    /// Tokens that end generation: EOS plus end-of-turn tokens the chat template uses.
    public let eosTokenIds: Set<Int>
    /// Number of ids (model vocabulary plus added tokens).
    public let vocabSize: Int
    /// The chat template text shipped with the tokenizer, if any.
    public let chatTemplate: String?
    /// Where `chatTemplate` was read: a file and key, or a GGUF file and key.
    public let chatTemplateSource: String?
    /// BOS text as chat templates see it (`bos_token`).
    public let bosToken: String?
    /// EOS text as chat templates see it (`eos_token`).
    public let eosToken: String?

    /// Assembles a tokenizer from its parts.
    init(
        model: BPEModel, normalizer: Normalizer?, preTokenizer: PreTokenizer?, decoder: TokenDecoder?,
        addedTokens: [AddedToken], prefixIds: [Int], suffixIds: [Int], bosTokenId: Int?,
        eosTokenIds: Set<Int>, chatTemplate: String?, chatTemplateSource: String? = nil, bosToken: String?,
        eosToken: String?
    ) {
        self.model = model
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.decoder = decoder
        self.addedTokens = addedTokens
        rawMatcher = AddedTokenMatcher(addedTokens.filter { !$0.normalized })
        normalizedMatcher = AddedTokenMatcher(addedTokens.filter { $0.normalized })
        var pieces: [String?] = model.pieces.map { $0 }
        for t in addedTokens {
            if t.id >= pieces.count { pieces.append(contentsOf: Array(repeating: nil, count: t.id - pieces.count + 1)) }
            pieces[t.id] = t.content
        }
        idToPiece = pieces
        vocabSize = pieces.count
        specialIds = Set(addedTokens.filter(\.special).map(\.id))
        self.prefixIds = prefixIds
        self.suffixIds = suffixIds
        byteLevelInput = preTokenizer?.isByteLevel ?? false
        self.bosTokenId = bosTokenId
        self.eosTokenIds = eosTokenIds
        self.chatTemplate = chatTemplate
        self.chatTemplateSource = chatTemplateSource
        self.bosToken = bosToken
        self.eosToken = eosToken
    }

    /// Loads a tokenizer from a model folder, a tokenizer-only folder, a tokenizer.json or a .gguf file.
    public static func load(from url: URL) throws -> Tokenizer {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
            throw TokenizerError.notFound(path: url.path)
        }
        if isDir.boolValue {
            let json = url.appendingPathComponent("tokenizer.json")
            if FileManager.default.fileExists(atPath: json.path) { return try loadJSON(json) }
            let files = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
            if let gguf = files.sorted().first(where: { $0.hasSuffix(".gguf") }) {
                return try loadGGUF(url.appendingPathComponent(gguf))
            }
            throw TokenizerError.notFound(path: url.path)
        }
        if url.pathExtension.lowercased() == "gguf" { return try loadGGUF(url) }
        return try loadJSON(url)
    }

    /// Encodes UTF-8 bytes, rejecting invalid UTF-8 with the offset of the first bad byte.
    public func encode(utf8 bytes: [UInt8], addSpecialTokens: Bool = true) throws -> [Int] {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw TokenizerError.invalidUTF8(byteOffset: Tokenizer.firstInvalidUTF8Offset(bytes))
        }
        return try encode(text, addSpecialTokens: addSpecialTokens)
    }

    /// The offset of the first byte that does not start a valid UTF-8 sequence.
    static func firstInvalidUTF8Offset(_ bytes: [UInt8]) -> Int {
        var i = 0
        outer: while i < bytes.count {
            for n in 1...4 where i + n <= bytes.count {
                if String(validating: bytes[i..<(i + n)], as: UTF8.self) != nil {
                    i += n
                    continue outer
                }
            }
            return i
        }
        return bytes.count
    }

    /// Encodes text into token ids.
    ///
    /// Special-token text in the input (e.g. `<|im_start|>`) is matched as that token, as HF does.
    /// With `addSpecialTokens`, the post-processor's BOS/EOS are added.
    public func encode(_ text: String, addSpecialTokens: Bool = true) throws -> [Int] {
        var ids: [Int] = addSpecialTokens ? prefixIds : []
        let scalars = Array(text.unicodeScalars)
        var cache: [PieceKey: [Int]] = [:]
        for segment in rawMatcher.split(scalars) {
            switch segment {
            case .token(let id): ids.append(id)
            case .text(let range):
                encodeText(Array(scalars[range]), atStart: range.lowerBound == 0, cache: &cache, into: &ids)
            }
        }
        if addSpecialTokens { ids.append(contentsOf: suffixIds) }
        return ids
    }

    /// Normalizes, splits on normalized added tokens, pre-tokenizes and runs the model.
    private func encodeText(
        _ scalars: [Unicode.Scalar], atStart: Bool, cache: inout [PieceKey: [Int]], into ids: inout [Int]
    ) {
        var text = scalars
        if let normalizer {
            text = Array(normalizer.apply(String(String.UnicodeScalarView(scalars))).unicodeScalars)
        }
        for segment in normalizedMatcher.split(text) {
            switch segment {
            case .token(let id): ids.append(id)
            case .text(let range):
                var words = [PreToken(scalars: Array(text[range]), atStart: atStart && range.lowerBound == 0)]
                if let preTokenizer { words = preTokenizer.apply(words) }
                for word in words {
                    if byteLevelInput {
                        encodeWord(word.scalars, cache: &cache, into: &ids)
                        continue
                    }
                    // SentencePiece style: merges never cross these ▁ run starts, so split there and cache.
                    let w = word.scalars
                    let blockers = model.metaspaceBlockers
                    var start = 0
                    for i in 1..<max(w.count, 1)
                    where w[i] == "\u{2581}" && w[i - 1] != "\u{2581}"
                        && !blockers.contains(w[i - 1].value)
                    {
                        encodeWord(Array(w[start..<i]), cache: &cache, into: &ids)
                        start = i
                    }
                    if start < w.count { encodeWord(Array(w[start...]), cache: &cache, into: &ids) }
                }
            }
        }
    }

    /// Runs the model on one pre-token, remembering short words seen in this call.
    private func encodeWord(_ word: [Unicode.Scalar], cache: inout [PieceKey: [Int]], into ids: inout [Int]) {
        let key = PieceKey(String(String.UnicodeScalarView(word)))
        let cacheable = word.count < 64
        if cacheable, let hit = cache[key] {
            ids.append(contentsOf: hit)
            return
        }
        var out: [Int] = []
        if byteLevelInput {
            model.encodeByteLevel(Array(key.text.utf8)[...], into: &out)
        } else {
            model.encodeScalars(word[...], into: &out)
        }
        if cacheable { cache[key] = out }
        ids.append(contentsOf: out)
    }

    /// The piece (token text as stored in the vocabulary) of an id, or nil if out of range.
    public func tokenString(_ id: Int) -> String? {
        guard id >= 0, id < idToPiece.count else { return nil }
        return idToPiece[id]
    }

    /// The id of a piece, model vocabulary or added token.
    public func tokenId(_ piece: String) -> Int? {
        if let t = addedTokens.first(where: { $0.content.utf8.elementsEqual(piece.utf8) }) { return t.id }
        return model.id(of: piece)
    }

    /// True when `id` is a special (control) token.
    public func isSpecial(_ id: Int) -> Bool { specialIds.contains(id) }

    /// Decodes ids into text; unknown ids are skipped, special tokens too when asked.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        var pieces: [String] = []
        pieces.reserveCapacity(ids.count)
        for id in ids {
            if skipSpecialTokens && specialIds.contains(id) { continue }
            if let piece = tokenString(id) { pieces.append(piece) }
        }
        guard let decoder else { return pieces.joined(separator: " ") }
        return decoder.apply(pieces).joined()
    }
}
