import Foundation
import LEMCore
import TestSupport
import Testing

@testable import LEMEngine

/// Tokenizer behaviour on small hand-made vocabularies: SentencePiece-style BPE with byte
/// fallback, Metaspace, added tokens, streaming and bad input.
@Suite("Tokenizer")
struct TokenizerTests {
    /// A tiny SentencePiece-style tokenizer.json: 256 byte tokens, ▁, a, b, ab, ▁ab.
    static func tinyJSON(
        preTokenizer: String = "null", normalizer: String? = nil, decoder: String? = nil,
        added: String = "", merges: String = #"["a b", "▁ ab"]"#
    ) -> Data {
        var vocab = [#""<unk>": 0"#]
        for b in 0..<256 { vocab.append(String(format: "\"<0x%02X>\": %d", b, b + 1)) }
        vocab += [
            #""▁": 257"#, #""a": 258"#, #""b": 259"#, #""ab": 260"#, #""▁ab": 261"#, #""ba": 265"#, #""aa": 266"#,
            #""▁b": 267"#
        ]
        let norm =
            normalizer
            ?? #"{"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]}"#
        let dec =
            decoder
            ?? #"{"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}"#
        let json = """
            {"added_tokens": [{"id": 262, "content": "<s>", "special": true}\(added)],
             "normalizer": \(norm), "pre_tokenizer": \(preTokenizer), "decoder": \(dec),
             "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}], "special_tokens": {"<s>": {"id": "<s>", "ids": [262], "tokens": ["<s>"]}}},
             "model": {"type": "BPE", "unk_token": "<unk>", "byte_fallback": true, "fuse_unk": true,
                       "vocab": {\(vocab.joined(separator: ", "))}, "merges": \(merges)}}
            """
        return Data(json.utf8)
    }

    static func byteId(_ b: UInt8) -> Int { Int(b) + 1 }

    @Test("SentencePiece-style BPE: ▁ prefix, merges, byte fallback, BOS")
    func sentencePiece() throws {
        let t = try Tokenizer.parse(json: Self.tinyJSON(), path: "tiny.json")
        let emoji = Array("😀".utf8).map(Self.byteId)
        #expect(try t.encode("ab ab 😀", addSpecialTokens: false) == [261, 261, 257] + emoji)
        #expect(try t.encode("ab") == [262, 261])
        // Strip removes only the first space of the fused text, as HF does.
        #expect(t.decode([262, 261, 261, 257] + emoji) == "<s> ab ab 😀")
        #expect(t.decode([262, 261, 261], skipSpecialTokens: true) == "ab ab")
        #expect(t.decode([Self.byteId(0xF0), Self.byteId(0x9F)]) == "\u{FFFD}\u{FFFD}")
        #expect(t.tokenString(261) == "▁ab")
        #expect(t.tokenString(9999) == nil)
        #expect(t.vocabSize == 268)
    }

    @Test("Metaspace pre-tokenizer with prepend_scheme first, and special tokens in the text")
    func metaspace() throws {
        let pre = #"{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": false}"#
        let dec = #"{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": false}"#
        let t = try Tokenizer.parse(
            json: Self.tinyJSON(preTokenizer: pre, normalizer: "null", decoder: dec), path: "tiny.json")
        #expect(try t.encode("ab ab", addSpecialTokens: false) == [261, 261])
        #expect(try t.encode("<s>ab", addSpecialTokens: false) == [262, 260])
        #expect(t.decode([261, 261]) == "ab ab")
    }

    @Test("added tokens: longest match, lstrip/rstrip absorb whitespace")
    func addedTokens() throws {
        let added =
            #", {"id": 263, "content": "<m>", "special": true, "lstrip": true, "rstrip": true}, {"id": 264, "content": "<m>>", "special": false}"#
        let t = try Tokenizer.parse(json: Self.tinyJSON(added: added), path: "tiny.json")
        #expect(try t.encode("ab <m> ab", addSpecialTokens: false) == [261, 263, 261])
        #expect(try t.encode("ab<m>>", addSpecialTokens: false) == [261, 264])
        #expect(t.isSpecial(263) && !t.isSpecial(264))
    }

    @Test("streaming never emits half a code point and adds up to decode()")
    func streaming() throws {
        let t = try Tokenizer.parse(json: Self.tinyJSON(), path: "tiny.json")
        let ids = try t.encode("ab 😀 ab é", addSpecialTokens: true)
        var stream = StreamingDetokenizer(tokenizer: t)
        var pieces: [String] = []
        for id in ids { pieces.append(stream.push(id)) }
        pieces.append(stream.finish())
        #expect(pieces.joined() == t.decode(ids))
        #expect(!pieces.contains { $0.contains("\u{FFFD}") })
        #expect(pieces.contains("😀") || pieces.contains(" 😀"))
    }

    @Test(
        "streaming on real vocabularies matches decode",
        TokenizerFixtures.whenInstalled,
        arguments: TokenizerFixtures.installedNames)
    func streamingReal(name: String) throws {
        let t = try #require(TokenizerFixtures.loaded[name], "\(name) failed to load")
        for text in ["Hello 👨‍👩‍👧‍👦 世界! é", "日本語のテキスト\n\tcode()", "ﬁ ḁ̴̛̙ ٣٤٥ 🇫🇷"] {
            let ids = try t.encode(text)
            var stream = StreamingDetokenizer(tokenizer: t, skipSpecialTokens: true)
            var out = ""
            for id in ids {
                let piece = stream.push(id)
                #expect(!piece.contains("\u{FFFD}"), "\(name): half a character emitted for \(text)")
                out += piece
            }
            out += stream.finish()
            #expect(out == t.decode(ids, skipSpecialTokens: true))
            #expect(out == text)
        }
    }

    @Test("heap merge loop equals the plain quadratic loop (its oracle)")
    func heapMatchesOracle() throws {
        let t = try Tokenizer.parse(
            json: Self.tinyJSON(merges: #"["a b", "▁ ab", "b a", "a a", "▁ b"]"#), path: "tiny.json")
        var state: UInt64 = 42
        for _ in 0..<300 {
            var symbols: [Int] = []
            for _ in 0..<(2 + Int(state % 60)) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                symbols.append([257, 258, 259][Int(state >> 40) % 3])
            }
            var heap = symbols
            var plain = symbols
            t.model.merge(&heap, allowSmallPath: false)
            t.model.mergeSmall(&plain)
            #expect(heap == plain, "\(symbols)")
        }
    }

    @Test("malformed tokenizer.json gives errors naming the problem")
    func malformed() throws {
        func message(_ json: String) -> String {
            do {
                _ = try Tokenizer.parse(json: Data(json.utf8), path: "bad.json")
                return ""
            } catch { return "\(error)" }
        }
        #expect(message(#"{"added_tokens": []}"#).contains("bad.json: invalid tokenizer: missing \"model\""))
        #expect(message("{not json").contains("not valid JSON"))
        #expect(message(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}}"#).contains("merges[0]"))
        #expect(
            message(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["ab"]}}"#).contains(
                "expected \"left right\""))
        #expect(
            message(#"{"model": {"type": "Unigram", "vocab": []}}"#).contains(
                "unsupported tokenizer feature: model type \"Unigram\""))
        #expect(message(#"{"model": {"type": "BPE", "vocab": {"a": -1}, "merges": []}}"#).contains("non-negative"))
        // The vocabulary scanner's own errors (model.vocab and model.merges skip the JSON tree).
        #expect(
            message(#"{"model": {"type": "BPE", "vocab": ["a"], "merges": []}}"#).contains(
                "model.vocab: expected an object"))
        #expect(
            message(#"{"model": {"type": "BPE", "vocab": {"a": 1.5}, "merges": []}}"#).contains("model.vocab[\"a\"]"))
        #expect(
            message(#"{"model": {"type": "BPE", "vocab": {"a": 0 "b": 1}, "merges": []}}"#).contains(
                "expected ',' or '}'"))
        #expect(message(#"{"model": {"type": "BPE", "vocab": {"a": 0}}}"#).contains("model.merges: expected a list"))
        #expect(
            message(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [7]}}"#).contains(
                "model.merges[0]: expected a string or a pair"))
        #expect(
            message(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [["a"]]}}"#).contains("model.merges[0]"))
        #expect(
            message(#"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": [["a", "b"]]}}"#).contains(
                "\"a\" + \"b\" uses a token not in the vocabulary"))
        #expect(message(#"{"model": {"type": "BPE", "vocab": {"a": 0, "merges": []}}"#).contains("not valid JSON"))
        var badUTF8 = Array(#"{"model": {"type": "BPE", "vocab": {"a"#.utf8)
        badUTF8 += [0xFF] + Array(#"": 0}, "merges": []}}"#.utf8)
        do {
            _ = try Tokenizer.parse(json: Data(badUTF8), path: "bad.json")
            Issue.record("invalid UTF-8 accepted")
        } catch {
            #expect("\(error)".contains("invalid UTF-8"))
        }
        let pre = #"{"type": "Split", "pattern": {"Regex": "\\w+"}, "behavior": "Isolated"}"#
        #expect(
            message(#"{"pre_tokenizer": \#(pre), "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}"#).contains(
                "Split regex"))
        #expect(throws: TokenizerError.self) { try Tokenizer.load(from: URL(fileURLWithPath: "/nonexistent/model")) }
    }

    @Test("invalid UTF-8 input is rejected with the offset of the bad byte")
    func invalidUTF8() throws {
        let t = try Tokenizer.parse(json: Self.tinyJSON(), path: "tiny.json")
        #expect(throws: TokenizerError.invalidUTF8(byteOffset: 2)) { try t.encode(utf8: [0x61, 0x62, 0xFF, 0x61]) }
        #expect(throws: TokenizerError.invalidUTF8(byteOffset: 1)) { try t.encode(utf8: [0x61, 0xE2, 0x28, 0xA1]) }
        #expect(try t.encode(utf8: Array("ab".utf8)) == [262, 261])
    }

    @Test(
        "GGUF vocabularies expose BOS, EOS and end-of-turn ids",
        .enabled(if: !TokenizerFixtures.installedGGUFNames.isEmpty, "no GGUF model installed: run Scripts/setup.sh"))
    func ggufSpecials() throws {
        if let t = TokenizerFixtures.ggufLoaded["smollm2"] {
            #expect(t.tokenId("<|im_end|>").map { t.eosTokenIds.contains($0) } == true)
            #expect(t.chatTemplate != nil)
            #expect(t.vocabSize == 49152)
        }
        if let t = TokenizerFixtures.ggufLoaded["gemma3"] {
            #expect(t.bosTokenId == 2)
            #expect(t.eosTokenIds.contains(1))
            #expect(t.vocabSize == 262144)
            let template = try ChatTemplate(tokenizer: t)
            #expect(
                try template.render(messages: [ChatMessage(role: "user", content: "Hi")])
                    == "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n")
        }
    }
}
