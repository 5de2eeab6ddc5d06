import Foundation
import LEMCore
import LEMFormats

extension Tokenizer {
    /// Loads a HF tokenizers `tokenizer.json`, with `tokenizer_config.json` and
    /// `generation_config.json` from the same folder when present.
    public static func loadJSON(_ url: URL) throws -> Tokenizer {
        let path = url.path
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TokenizerError.invalidFile(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
        let folder = url.deletingLastPathComponent()
        let config = try readOptionalJSON(folder.appendingPathComponent("tokenizer_config.json"))
        let generation = try readOptionalJSON(folder.appendingPathComponent("generation_config.json"))
        var template = chatTemplate(from: config)
        var templateSource = template.map { _ in
            folder.appendingPathComponent("tokenizer_config.json").path + ": chat_template"
        }
        let jinja = folder.appendingPathComponent("chat_template.jinja")
        if template == nil, let text = try? String(contentsOf: jinja, encoding: .utf8) {
            template = text
            templateSource = jinja.path
        }
        return try parse(
            json: data, path: path, config: config, generationConfig: generation, chatTemplate: template,
            chatTemplateSource: templateSource)
    }

    /// Builds a tokenizer from tokenizer.json bytes plus the optional tokenizer_config.json object.
    ///
    /// `scanVocabulary: false` builds the vocabulary and merges from a generic JSON tree instead
    /// of `VocabularyScanner` — slower, kept as the tests' oracle.
    public static func parse(
        json data: Data, path: String, config: [String: Any]? = nil,
        generationConfig: [String: Any]? = nil, chatTemplate: String? = nil,
        chatTemplateSource: String? = nil, scanVocabulary: Bool = true
    ) throws -> Tokenizer {
        let root: JSONValue
        let skipped: [String: Range<Int>]
        do {
            (root, skipped) = try JSONValue.parse(data, skipping: scanVocabulary ? ["model.vocab", "model.merges"] : [])
        } catch {
            throw TokenizerError.invalidFile(path: path, reason: "not valid JSON: \(error)")
        }
        guard root.object != nil else {
            throw TokenizerError.invalidFile(path: path, reason: "expected a JSON object at the top level")
        }
        guard let modelJSON = root["model"], modelJSON.object != nil else {
            throw TokenizerError.invalidFile(path: path, reason: "missing \"model\" object")
        }
        let model = try parseBPE(modelJSON, path: path, data: data, skipped: skipped)
        let added = try parseAddedTokens(root["added_tokens"], path: path)
        // Added tokens extend the id table up to the largest id: keep it near the real vocabulary.
        let idLimit = model.pieces.count + added.count + 65_536
        for (k, t) in added.enumerated() where !(0..<idLimit).contains(t.id) {
            throw TokenizerError.invalidFile(
                path: path,
                reason:
                    "added_tokens[\(k)]: id \(t.id) is outside 0..<\(idLimit) (the vocabulary has \(model.pieces.count) tokens)"
            )
        }
        let normalizer = try Normalizer.parse(root["normalizer"], path: path)
        let preTokenizer = try PreTokenizer.parse(root["pre_tokenizer"], path: path)
        let decoder = try TokenDecoder.parse(root["decoder"], path: path)

        func id(of text: String?) -> Int? {
            guard let text else { return nil }
            return added.first { $0.content.utf8.elementsEqual(text.utf8) }?.id ?? model.id(of: text)
        }
        let bosText = tokenText(config?["bos_token"])
        let eosText = tokenText(config?["eos_token"])
        let post = root["post_processor"]
        var (prefix, suffix) = try parsePostProcessor(post, path: path, idOf: id)
        if post == nil || post?.isNull == true {
            if config?["add_bos_token"] as? Bool == true, let bos = id(of: bosText) { prefix = [bos] }
            if config?["add_eos_token"] as? Bool == true, let eos = id(of: eosText) { suffix = [eos] }
        }
        var eos = Set<Int>()
        if let e = id(of: eosText) { eos.insert(e) }
        if let g = generationConfig?["eos_token_id"] {
            if let one = g as? Int { eos.insert(one) }
            if let many = g as? [Int] { eos.formUnion(many) }
        }
        eos.formUnion(endOfTurnIds(template: chatTemplate, idOf: id))
        return Tokenizer(
            model: model, normalizer: normalizer, preTokenizer: preTokenizer, decoder: decoder,
            addedTokens: added, prefixIds: prefix, suffixIds: suffix, bosTokenId: id(of: bosText),
            eosTokenIds: eos, chatTemplate: chatTemplate, chatTemplateSource: chatTemplateSource,
            bosToken: bosText, eosToken: eosText)
    }

    /// End-of-turn markers that count as EOS when the chat template emits them.
    static func endOfTurnIds(template: String?, idOf: (String?) -> Int?) -> Set<Int> {
        guard let template else { return [] }
        return Set(ChatTemplate.endOfTurnMarkers.filter { template.contains($0) }.compactMap { idOf($0) })
    }

    /// A token's text from a config value: a string or an object with `content`.
    static func tokenText(_ value: Any?) -> String? {
        if let s = value as? String { return s }
        if let obj = value as? [String: Any] { return obj["content"] as? String }
        return nil
    }

    /// The chat template in tokenizer_config.json: a string, or a list of named templates ("default").
    static func chatTemplate(from config: [String: Any]?) -> String? {
        if let s = config?["chat_template"] as? String { return s }
        if let list = config?["chat_template"] as? [[String: Any]] {
            let named = list.first { $0["name"] as? String == "default" } ?? list.first
            return named?["template"] as? String
        }
        return nil
    }

    static func readOptionalJSON(_ url: URL) throws -> [String: Any]? {
        guard let data = try? Data(contentsOf: url) else { return nil }
        guard let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw TokenizerError.invalidFile(path: url.path, reason: "not a valid JSON object")
        }
        return obj
    }

    /// Parses `model` (type BPE) with its vocabulary and merges ("a b" strings or [a, b] pairs):
    /// scanned from `data` when the parse left them as `skipped` byte ranges, else from the tree.
    static func parseBPE(_ obj: JSONValue, path: String, data: Data, skipped: [String: Range<Int>]) throws -> BPEModel {
        let type = obj["type"]?.string ?? "BPE"
        guard type == "BPE" else { throw TokenizerError.unsupported(path: path, feature: "model type \"\(type)\"") }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let s = obj[key]?.string, !s.isEmpty {
                throw TokenizerError.unsupported(path: path, feature: "BPE \(key)")
            }
        }
        let vocab: [PieceKey: Int]
        let pieces: [String]
        let table: [UInt64: UInt64]
        if let vocabRange = skipped["model.vocab"] {
            (vocab, pieces, table) = try data.withUnsafeBytes { raw in
                let scanner = VocabularyScanner(bytes: raw.bindMemory(to: UInt8.self), path: path)
                let (pieceTable, maxId) = try scanner.vocabulary(vocabRange)
                try checkIdRange(maxId: maxId, entries: pieceTable.count, path: path)
                var pieces = [String](repeating: "", count: maxId + 1)
                var taken = [Bool](repeating: false, count: maxId + 1)
                var vocab: [PieceKey: Int] = [:]
                vocab.reserveCapacity(pieceTable.count)
                for e in 0..<pieceTable.count {
                    guard let text = String(validating: pieceTable.key(e), as: UTF8.self) else {
                        throw TokenizerError.invalidFile(
                            path: path, reason: "model.vocab: invalid UTF-8 in token \(pieceTable.ids[e])")
                    }
                    let id = Int(pieceTable.ids[e])
                    guard !taken[id] else { throw duplicateId(id, text, pieces[id], path: path) }
                    taken[id] = true
                    vocab[PieceKey(text)] = id
                    pieces[id] = text
                }
                guard let mergesRange = skipped["model.merges"] else {
                    throw TokenizerError.invalidFile(path: path, reason: "model.merges: expected a list")
                }
                return (vocab, pieces, try scanner.merges(mergesRange, pieces: pieceTable))
            }
        } else {
            (vocab, pieces, table) = try parseBPETables(obj, path: path)
        }
        let unk = obj["unk_token"]?.string.flatMap { vocab[PieceKey($0)] }
        return BPEModel(
            vocab: vocab, pieces: pieces, merges: .ranked(table),
            byteFallback: obj["byte_fallback"]?.bool ?? false, unknownId: unk,
            fuseUnknown: obj["fuse_unk"]?.bool ?? false, ignoreMerges: obj["ignore_merges"]?.bool ?? false)
    }

    /// The vocabulary, pieces and merge table read from a parsed tree (the scanner's oracle).
    static func parseBPETables(_ obj: JSONValue, path: String) throws -> ([PieceKey: Int], [String], [UInt64: UInt64]) {
        guard let vocabJSON = obj["vocab"]?.object?.members else {
            throw TokenizerError.invalidFile(path: path, reason: "model.vocab: expected an object of token → id")
        }
        var vocab: [PieceKey: Int] = [:]
        vocab.reserveCapacity(vocabJSON.count)
        var maxId = -1
        for (piece, value) in vocabJSON {
            guard let id = value.int, id >= 0, id < 1 << 31 else {
                throw TokenizerError.invalidFile(
                    path: path, reason: "model.vocab[\"\(piece)\"]: expected a non-negative integer id")
            }
            vocab[PieceKey(piece)] = id
            maxId = max(maxId, id)
        }
        try checkIdRange(maxId: maxId, entries: vocab.count, path: path)
        var pieces = [String](repeating: "", count: maxId + 1)
        var taken = [Bool](repeating: false, count: maxId + 1)
        for (piece, id) in vocab {
            guard !taken[id] else { throw duplicateId(id, piece.text, pieces[id], path: path) }
            taken[id] = true
            pieces[id] = piece.text
        }
        guard let mergesJSON = obj["merges"]?.array else {
            throw TokenizerError.invalidFile(path: path, reason: "model.merges: expected a list")
        }
        let pairs = try mergesJSON.enumerated().map { rank, entry -> (String, String) in
            if let s = entry.string { return try splitMerge(s, rank: rank, path: path) }
            if let pair = entry.array, pair.count == 2, let a = pair[0].string, let b = pair[1].string { return (a, b) }
            throw TokenizerError.invalidFile(
                path: path, reason: "model.merges[\(rank)]: expected a string or a pair of strings")
        }
        return (vocab, pieces, try mergeTable(pairs, vocab: vocab, path: path, key: "model.merges"))
    }

    /// Vocabulary ids may leave holes, but not more holes than pieces: the id table is sized by
    /// the largest id, so an id of 2³⁰ in a small file would otherwise cost gigabytes.
    static func checkIdRange(maxId: Int, entries: Int, path: String) throws {
        guard maxId < 2 * entries + 1024 else {
            throw TokenizerError.invalidFile(
                path: path, reason: "model.vocab: id \(maxId) is far beyond the \(entries) tokens listed")
        }
    }

    static func duplicateId(_ id: Int, _ a: String, _ b: String, path: String) -> TokenizerError {
        .invalidFile(
            path: path,
            reason: "model.vocab: id \(id) is given to both \"\(ErrorText.clip(b))\" and \"\(ErrorText.clip(a))\"")
    }

    /// Splits a "left right" merge line at its first space.
    static func splitMerge(_ s: String, rank: Int, path: String) throws -> (String, String) {
        guard let space = s.utf8.firstIndex(of: 0x20) else {
            throw TokenizerError.invalidFile(
                path: path, reason: "merges[\(rank)]: expected \"left right\", got \"\(s)\"")
        }
        return (String(s[..<space]), String(s[s.utf8.index(after: space)...]))
    }

    /// The packed merge table: (left id, right id) → (rank, merged id).
    static func mergeTable(_ pairs: [(String, String)], vocab: [PieceKey: Int], path: String, key: String) throws
        -> [UInt64: UInt64]
    {
        var table: [UInt64: UInt64] = [:]
        table.reserveCapacity(pairs.count)
        for (rank, (left, right)) in pairs.enumerated() {
            guard let a = vocab[PieceKey(left)], let b = vocab[PieceKey(right)],
                let merged = vocab[PieceKey(left + right)]
            else {
                throw TokenizerError.invalidFile(
                    path: path, reason: "\(key)[\(rank)]: \"\(left)\" + \"\(right)\" uses a token not in the vocabulary"
                )
            }
            let k = UInt64(a) << 32 | UInt64(b)
            if table[k] == nil { table[k] = UInt64(rank) << 32 | UInt64(merged) }
        }
        return table
    }

    static func parseAddedTokens(_ json: JSONValue?, path: String) throws -> [AddedToken] {
        guard let list = json?.array else { return [] }
        return try list.enumerated().map { k, t in
            guard let id = t["id"]?.int, let content = t["content"]?.string else {
                throw TokenizerError.invalidFile(path: path, reason: "added_tokens[\(k)]: expected id and content")
            }
            return AddedToken(
                id: id, content: content, special: t["special"]?.bool ?? false,
                lstrip: t["lstrip"]?.bool ?? false, rstrip: t["rstrip"]?.bool ?? false,
                normalized: t["normalized"]?.bool ?? false, singleWord: t["single_word"]?.bool ?? false)
        }
    }

    /// The ids a post-processor adds around a single sequence.
    static func parsePostProcessor(_ json: JSONValue?, path: String, idOf: (String?) -> Int?) throws -> ([Int], [Int]) {
        guard let obj = json, let type = obj["type"]?.string else { return ([], []) }
        switch type {
        case "ByteLevel": return ([], [])
        case "Sequence":
            var prefix: [Int] = []
            var suffix: [Int] = []
            for p in obj["processors"]?.array ?? [] {
                let (a, b) = try parsePostProcessor(p, path: path, idOf: idOf)
                prefix += a
                suffix += b
            }
            return (prefix, suffix)
        case "TemplateProcessing":
            let single = obj["single"]?.array ?? []
            let specials = obj["special_tokens"]
            var prefix: [Int] = []
            var suffix: [Int] = []
            var seenSequence = false
            for item in single {
                if item["Sequence"] != nil {
                    seenSequence = true
                    continue
                }
                guard let name = item["SpecialToken"]?["id"]?.string else {
                    throw TokenizerError.invalidFile(
                        path: path, reason: "post_processor.single: expected SpecialToken or Sequence")
                }
                let listed = specials?[name]?["ids"]?.array?.compactMap(\.int)
                let ids = listed ?? idOf(name).map { [$0] } ?? []
                if seenSequence { suffix += ids } else { prefix += ids }
            }
            return (prefix, suffix)
        case "BertProcessing", "RobertaProcessing":
            let cls = obj["cls"]?.array?.last?.int
            let sep = obj["sep"]?.array?.last?.int
            return (cls.map { [$0] } ?? [], sep.map { [$0] } ?? [])
        default:
            throw TokenizerError.unsupported(path: path, feature: "post_processor type \"\(type)\"")
        }
    }
}
