import Foundation
import TestSupport
import Testing

@testable import LEMEngine

/// Minimal reproducers of hostile tokenizer files: ids that would size tables past the file.
@Suite struct HostileTokenizerTests {
    func error(_ json: String, scan: Bool = true) -> String {
        errorMessage { try Tokenizer.parse(json: Data(json.utf8), path: "/m/tokenizer.json", scanVocabulary: scan) }
    }

    func tokenizer(vocab: String, added: String = "[]") -> String {
        #"{"model": {"type": "BPE", "vocab": {\#(vocab)}, "merges": []}, "added_tokens": \#(added)}"#
    }

    @Test("added-token ids of -1 and 2^40 are refused")
    func addedTokenIds() {
        for id in ["-1", "1099511627776"] {
            let m = error(tokenizer(vocab: #""a": 0, "b": 1"#, added: #"[{"id": \#(id), "content": "x"}]"#))
            #expect(m.contains("added_tokens[0]") && m.contains("/m/tokenizer.json"), "\(m)")
        }
        #expect(error(tokenizer(vocab: #""a": 0, "b": 1"#, added: #"[{"id": 2, "content": "x"}]"#)) == "no error")
    }

    @Test("vocabulary ids: duplicates and ids far past the listed tokens", arguments: [true, false])
    func vocabularyIds(scan: Bool) {
        let duplicate = error(tokenizer(vocab: #""a": 0, "b": 0"#), scan: scan)
        #expect(duplicate.contains("id 0 is given to both"), "\(duplicate)")
        let far = error(tokenizer(vocab: #""a": 0, "b": 2000000000"#), scan: scan)
        #expect(far.contains("model.vocab") && far.contains("2000000000"), "\(far)")
    }

    @Test("GGUF special-token ids outside the vocabulary are refused")
    func ggufSpecialIds() {
        var v = GGUFTokenizerValues(model: "gpt2", tokens: ["a", "b"])
        v.merges = []
        for id in [-1, 2, 1 << 40] {
            v.bosId = id
            #expect(throws: TokenizerError.self) { _ = try Tokenizer(gguf: v, path: "/m/x.gguf") }
        }
    }

    @Test("a high surrogate escape followed by a non-surrogate escape (fuzzer finding: overflow trap)")
    func loneSurrogate() throws {
        let json = tokenizer(vocab: #""a": 0, "\uD800\u0041": 1"#)
        let t = try Tokenizer.parse(json: Data(json.utf8), path: "/m/tokenizer.json", scanVocabulary: false)
        #expect(t.tokenString(1) == "\u{FFFD}A")
        let scanned = try Tokenizer.parse(json: Data(json.utf8), path: "/m/tokenizer.json")
        #expect(scanned.tokenString(1) == "\u{FFFD}A")
    }
}
