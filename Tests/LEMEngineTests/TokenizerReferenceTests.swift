import Foundation
import LEMEngine
import TestSupport
import Testing

/// Token ids and round trips against HF tokenizers on real vocabularies.
@Suite("Tokenizer reference ids")
struct TokenizerReferenceTests {
    static let names = ["llama3", "qwen2", "smollm2", "gemma3"]

    @Test("tokenizer.json encodes like HF tokenizers", arguments: names)
    func jsonIds(name: String) throws {
        guard TokenizerFixtures.folder(name) != nil else {
            print("skip \(name): run Scripts/fixtures_tokenizer.py to install its tokenizer.json"); return
        }
        let tokenizer = try #require(TokenizerFixtures.loaded[name], "\(name) failed to load")
        let ref = try TokenizerFixtures.reference(name)
        #expect(TokenizerFixtures.strings.count >= 2000)
        let (count, examples) = try TokenizerFixtures.mismatches(tokenizer, ref)
        #expect(count == 0, "\(name): \(count) of \(TokenizerFixtures.strings.count) strings differ:\n\(examples.joined(separator: "\n"))")
    }

    @Test("post-processor adds the reference BOS/EOS", arguments: names)
    func specialIds(name: String) throws {
        guard let tokenizer = TokenizerFixtures.loaded[name] else { return }
        let ref = try TokenizerFixtures.reference(name)
        for (k, expected) in ref.special_ids.enumerated() {
            #expect(try tokenizer.encode(TokenizerFixtures.strings[k]) == expected, "\(name) #\(k)")
        }
    }

    @Test("decode(encode(s)) == s where HF round-trips", arguments: names)
    func roundTrip(name: String) throws {
        guard let tokenizer = TokenizerFixtures.loaded[name] else { return }
        let ref = try TokenizerFixtures.reference(name)
        var failures: [String] = []
        for (k, text) in TokenizerFixtures.strings.enumerated() where ref.roundtrip[k] {
            let decoded = tokenizer.decode(try tokenizer.encode(text, addSpecialTokens: false))
            if decoded != text { failures.append("#\(k) \(text.debugDescription.prefix(80)) → \(decoded.debugDescription.prefix(80))") }
        }
        #expect(failures.isEmpty, "\(name): \(failures.count) round-trip failures:\n\(failures.prefix(8).joined(separator: "\n"))")
    }

    @Test("GGUF-embedded tokenizer gives the tokenizer.json ids", arguments: ["smollm2", "gemma3"])
    func ggufIds(name: String) throws {
        let installed = name == "gemma3" ? TestPaths.gemma3 : TestPaths.smolLM2
        guard installed != nil else { print("skip \(name) GGUF: not installed, run Scripts/setup.sh"); return }
        let tokenizer = try #require(TokenizerFixtures.ggufLoaded[name])
        let ref = try TokenizerFixtures.reference(name)
        let (count, examples) = try TokenizerFixtures.mismatches(tokenizer, ref)
        #expect(count == 0, "\(name) GGUF: \(count) strings differ:\n\(examples.joined(separator: "\n"))")
        for (k, expected) in ref.special_ids.prefix(20).enumerated() {
            #expect(try tokenizer.encode(TokenizerFixtures.strings[k]) == expected, "\(name) GGUF BOS #\(k)")
        }
    }
}
