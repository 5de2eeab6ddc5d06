import Foundation

/// The tokenizer values a GGUF file stores under `tokenizer.ggml.*`, as plain Swift values.
public struct GGUFTokenizerValues: Sendable {
    /// `tokenizer.ggml.model`: "llama" (SentencePiece, scores) or "gpt2" (byte-level BPE, merges).
    public var model: String
    /// `tokenizer.ggml.pre`: pre-tokenizer name (e.g. "llama-bpe", "qwen2", "smollm", "gpt-2", "default").
    public var pre: String?
    /// `tokenizer.ggml.tokens`.
    public var tokens: [String]
    /// `tokenizer.ggml.scores` (SentencePiece vocabularies).
    public var scores: [Float]?
    /// `tokenizer.ggml.token_type`: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
    public var tokenTypes: [Int]?
    /// `tokenizer.ggml.merges` ("a b" strings).
    public var merges: [String]?
    /// `tokenizer.ggml.bos_token_id`.
    public var bosId: Int?
    /// `tokenizer.ggml.eos_token_id`.
    public var eosId: Int?
    /// `tokenizer.ggml.eot_token_id` and other end-of-generation ids.
    public var extraEosIds: [Int] = []
    /// `tokenizer.ggml.unknown_token_id`.
    public var unknownId: Int?
    /// `tokenizer.ggml.add_bos_token` (default true for "llama", false for "gpt2").
    public var addBos: Bool?
    /// `tokenizer.ggml.add_eos_token`.
    public var addEos: Bool?
    /// `tokenizer.ggml.add_space_prefix` (SentencePiece; default true).
    public var addSpacePrefix: Bool?
    /// `tokenizer.chat_template`.
    public var chatTemplate: String?

    /// Creates the values; optional ones default to absent.
    public init(model: String, tokens: [String]) {
        self.model = model
        self.tokens = tokens
    }
}

extension Tokenizer {
    /// Builds a tokenizer from GGUF tokenizer metadata, giving the same ids as the model's tokenizer.json.
    ///
    /// "llama" vocabularies are SentencePiece BPE: spaces become `▁`, merges follow piece scores,
    /// unknown characters fall back to `<0xNN>` byte tokens; user-defined tokens are matched whole.
    /// "gpt2" vocabularies are byte-level BPE with ranked merges and the pre-tokenizer named by `pre`.
    public init(gguf v: GGUFTokenizerValues, path: String = "<gguf>") throws {
        let count = v.tokens.count
        for (key, id) in [("bos_token_id", v.bosId), ("eos_token_id", v.eosId), ("unknown_token_id", v.unknownId)] {
            if let id, !(0..<count).contains(id) {
                throw TokenizerError.invalidFile(
                    path: path, reason: "tokenizer.ggml.\(key) is \(id), outside the vocabulary of \(count) tokens")
            }
        }
        var vocab: [PieceKey: Int] = [:]
        vocab.reserveCapacity(count)
        for (id, piece) in v.tokens.enumerated() where vocab[PieceKey(piece)] == nil { vocab[PieceKey(piece)] = id }
        let types = v.tokenTypes ?? []
        if !types.isEmpty && types.count != count {
            throw TokenizerError.invalidFile(
                path: path, reason: "tokenizer.ggml.token_type has \(types.count) entries, expected \(count)")
        }
        var added: [AddedToken] = []
        for (id, type) in types.enumerated() where type == 3 || type == 4 {
            added.append(AddedToken(id: id, content: v.tokens[id], special: type == 3, normalized: false))
        }
        let model: BPEModel
        let normalizer: Normalizer?
        let preTokenizer: PreTokenizer?
        let decoder: TokenDecoder?
        var prefix: [Int] = []
        var suffix: [Int] = []
        switch v.model {
        case "llama":
            guard let scores = v.scores, scores.count == count else {
                throw TokenizerError.invalidFile(
                    path: path, reason: "tokenizer.ggml.scores: expected \(count) scores for a llama vocabulary")
            }
            model = BPEModel(
                vocab: vocab, pieces: v.tokens, merges: .scores(BPEModel.scoreRanks(scores)),
                byteFallback: true, unknownId: v.unknownId, fuseUnknown: true, ignoreMerges: false)
            var steps: [Normalizer] = []
            if v.addSpacePrefix ?? true { steps.append(.prepend("\u{2581}")) }
            steps.append(.replace(pattern: " ", content: "\u{2581}"))
            normalizer = .sequence(steps)
            preTokenizer = nil
            var dec: [TokenDecoder] = [.replace(pattern: "\u{2581}", content: " "), .byteFallback, .fuse]
            if v.addSpacePrefix ?? true { dec.append(.strip(content: " ", start: 1, stop: 0)) }
            decoder = .sequence(dec)
            if v.addBos ?? true, let bos = v.bosId { prefix = [bos] }
        case "gpt2":
            guard let merges = v.merges else {
                throw TokenizerError.invalidFile(
                    path: path, reason: "tokenizer.ggml.merges: missing for a gpt2 vocabulary")
            }
            let pairs = try merges.enumerated().map { try Tokenizer.splitMerge($1, rank: $0, path: path) }
            let table = try Tokenizer.mergeTable(pairs, vocab: vocab, path: path, key: "tokenizer.ggml.merges")
            model = BPEModel(
                vocab: vocab, pieces: v.tokens, merges: .ranked(table), byteFallback: false,
                unknownId: v.unknownId, fuseUnknown: false, ignoreMerges: false)
            normalizer = v.pre == "qwen2" ? .nfc : nil
            preTokenizer = try Tokenizer.ggufPreTokenizer(v.pre, path: path)
            decoder = .byteLevel
            if v.addBos ?? false, let bos = v.bosId { prefix = [bos] }
        default:
            throw TokenizerError.unsupported(path: path, feature: "tokenizer.ggml.model \"\(v.model)\"")
        }
        if v.addEos ?? false, let eos = v.eosId { suffix = [eos] }
        var eos = Set(v.extraEosIds)
        if let e = v.eosId { eos.insert(e) }
        let idOf: (String?) -> Int? = { text in text.flatMap { vocab[PieceKey($0)] } }
        eos.formUnion(Tokenizer.endOfTurnIds(template: v.chatTemplate, idOf: idOf))
        let bosText = v.bosId.map { v.tokens[$0] }
        let eosText = v.eosId.map { v.tokens[$0] }
        self.init(
            model: model, normalizer: normalizer, preTokenizer: preTokenizer, decoder: decoder,
            addedTokens: added, prefixIds: prefix, suffixIds: suffix, bosTokenId: v.bosId, eosTokenIds: eos,
            chatTemplate: v.chatTemplate,
            chatTemplateSource: v.chatTemplate.map { _ in path + ": tokenizer.chat_template" },
            bosToken: bosText, eosToken: eosText)
    }

    /// The pre-tokenizer llama.cpp uses for a `tokenizer.ggml.pre` name.
    static func ggufPreTokenizer(_ name: String?, path: String) throws -> PreTokenizer {
        switch name ?? "default" {
        case "llama-bpe", "llama3", "llama-v3", "smaug-bpe":
            return .sequence([
                .splitPattern(.llama3, .isolated, invert: false), .byteLevel(addPrefixSpace: false, useRegex: false)
            ])
        case "qwen2", "deepseek-r1-qwen":
            return .sequence([
                .splitPattern(.qwen2, .isolated, invert: false), .byteLevel(addPrefixSpace: false, useRegex: false)
            ])
        case "smollm":
            return .sequence([.digits(individual: true), .byteLevel(addPrefixSpace: false, useRegex: true)])
        case "gpt-2", "gpt2", "default":
            return .byteLevel(addPrefixSpace: false, useRegex: true)
        case let other:
            throw TokenizerError.unsupported(path: path, feature: "tokenizer.ggml.pre \"\(other)\"")
        }
    }

    /// Loads the tokenizer embedded in a GGUF file.
    static func loadGGUF(_ url: URL) throws -> Tokenizer {
        let values = try GGUFTokenizerReader.read(url)
        return try Tokenizer(gguf: values, path: url.path)
    }
}
