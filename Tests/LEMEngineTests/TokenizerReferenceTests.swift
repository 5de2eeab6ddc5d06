import Foundation
import TestSupport
import Testing

@testable import LEMEngine

/// Token ids and round trips against HF tokenizers on real vocabularies.
@Suite("Tokenizer reference ids")
struct TokenizerReferenceTests {
    /// What one case of `reference` checks.
    enum Check: String, CaseIterable, Sendable {
        /// tokenizer.json encodes like HF tokenizers.
        case ids
        /// The post-processor adds the reference BOS/EOS.
        case specialIds
        /// decode(encode(s)) == s where HF round-trips.
        case roundTrip
    }

    @Test(
        "tokenizer.json against HF tokenizers: ids, the post-processor's BOS/EOS, round trips",
        TokenizerFixtures.whenInstalled,
        arguments: TokenizerFixtures.installedNames, Check.allCases)
    func reference(name: String, check: Check) throws {
        let (tokenizer, ref) = try TokenizerFixtures.loadedWithReference(name)
        switch check {
        case .ids:
            #expect(TokenizerFixtures.strings.count >= 2000)
            let (count, examples) = try TokenizerFixtures.mismatches(tokenizer, ref)
            #expect(
                count == 0,
                "\(name): \(count) of \(TokenizerFixtures.strings.count) strings differ:\n\(examples.joined(separator: "\n"))"
            )
        case .specialIds:
            for (k, expected) in ref.special_ids.enumerated() {
                #expect(try tokenizer.encode(TokenizerFixtures.strings[k]) == expected, "\(name) #\(k)")
            }
        case .roundTrip:
            var failures: [String] = []
            for (k, text) in TokenizerFixtures.strings.enumerated() where ref.roundtrip[k] {
                let decoded = tokenizer.decode(try tokenizer.encode(text, addSpecialTokens: false))
                if decoded != text {
                    failures.append(
                        "#\(k) \(text.debugDescription.prefix(80)) → \(decoded.debugDescription.prefix(80))")
                }
            }
            #expect(
                failures.isEmpty,
                "\(name): \(failures.count) round-trip failures:\n\(failures.prefix(8).joined(separator: "\n"))")
        }
    }

    @Test(
        "GGUF-embedded tokenizer gives the tokenizer.json ids",
        .enabled(if: !TokenizerFixtures.installedGGUFNames.isEmpty, "no GGUF model installed: run Scripts/setup.sh"),
        arguments: TokenizerFixtures.installedGGUFNames)
    func ggufIds(name: String) throws {
        let tokenizer = try #require(TokenizerFixtures.ggufLoaded[name])
        let ref = try TokenizerFixtures.reference(name)
        let (count, examples) = try TokenizerFixtures.mismatches(tokenizer, ref)
        #expect(count == 0, "\(name) GGUF: \(count) strings differ:\n\(examples.joined(separator: "\n"))")
        for (k, expected) in ref.special_ids.prefix(20).enumerated() {
            #expect(try tokenizer.encode(TokenizerFixtures.strings[k]) == expected, "\(name) GGUF BOS #\(k)")
        }
    }

    @Test(
        "Gemma 3 tokenizer.json (SentencePiece-style BPE) and its GGUF give the same ids",
        .enabled(
            if: TokenizerFixtures.folder("gemma3") != nil && TestPaths.gemma3 != nil,
            "needs ~/.cache/lem/tokenizers/gemma3 (Scripts/fixtures_tokenizer.py) and the Gemma 3 GGUF (Scripts/setup.sh)"
        ))
    func gemmaJSONMatchesGGUF() throws {
        let json = try #require(TokenizerFixtures.loaded["gemma3"], "gemma3 tokenizer.json failed to load")
        let gguf = try #require(TokenizerFixtures.ggufLoaded["gemma3"], "gemma3 GGUF tokenizer failed to load")
        #expect(json.vocabSize == gguf.vocabSize)
        // The committed strings plus longer mixed passages: whitespace runs, indentation, digits,
        // byte-fallback characters, special-token text and markup.
        let extra = [
            "  leading spaces,\ttabs\tand\n\nblank lines  \n",
            "def f(x):\n    return x ** 2  # square\n\n\nclass A:\n\tpass",
            "Prices: 3.14159, 1,000,000 and 2026-11-23T13:45:00Z; ratio 7/8.",
            "<start_of_turn>user\nHello<end_of_turn>\n<start_of_turn>model\n",
            "混合テキスト with English, العربية, हिन्दी, 한국어 and emoji 🧪🧬🇯🇵 in one line.",
            "\u{1F600}\u{0301}\u{200D}\u{FE0F} zero width\u{200B}joiners and \u{00A0}nbsp",
            String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 40)
        ]
        var differing: [String] = []
        for text in TokenizerFixtures.strings + extra {
            for special in [false, true] {
                let a = try json.encode(text, addSpecialTokens: special)
                let b = try gguf.encode(text, addSpecialTokens: special)
                if a != b {
                    differing.append(
                        "\(text.debugDescription.prefix(80)) special=\(special): json \(a.prefix(20)) gguf \(b.prefix(20))"
                    )
                }
            }
        }
        #expect(differing.isEmpty, "\(differing.count) texts differ:\n\(differing.prefix(8).joined(separator: "\n"))")
    }

    @Test(
        "the vocabulary scanner builds the same tables as the generic JSON tree",
        TokenizerFixtures.whenInstalled,
        arguments: TokenizerFixtures.installedNames)
    func scannerMatchesTree(name: String) throws {
        let url = try #require(TokenizerFixtures.folder(name)).appendingPathComponent("tokenizer.json")
        let data = try Data(contentsOf: url)
        let fast = try Tokenizer.parse(json: data, path: url.path)
        let tree = try Tokenizer.parse(json: data, path: url.path, scanVocabulary: false)
        #expect(fast.model.pieces == tree.model.pieces)
        #expect(fast.model.vocab == tree.model.vocab)
        guard case .ranked(let a) = fast.model.merges, case .ranked(let b) = tree.model.merges else {
            Issue.record("\(name): expected ranked merges")
            return
        }
        #expect(a == b)
    }
}
