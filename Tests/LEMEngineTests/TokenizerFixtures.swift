import Foundation
import LEMEngine
import TestSupport
import Testing

/// Reference vocabularies and fixture files for the tokenizer tests.
///
/// The tokenizer.json files are 3–33 MB, too big to commit; Scripts/fixtures_tokenizer.py puts them
/// in `~/.cache/lem/tokenizers/<name>/` (or `$LEM_HOME/tokenizers`). Reference ids are committed
/// under Tests/Fixtures/tokenizer/.
enum TokenizerFixtures {
    /// The folder holding a reference vocabulary, if it has been set up.
    static func folder(_ name: String) -> URL? {
        let url = TestPaths.modelsDirectory.deletingLastPathComponent()
            .appendingPathComponent("tokenizers").appendingPathComponent(name)
        return FileManager.default.fileExists(atPath: url.appendingPathComponent("tokenizer.json").path) ? url : nil
    }

    /// The reference vocabularies whose tokenizer.json is installed.
    static let installedNames: [String] = ["llama3", "qwen2", "smollm2", "gemma3"].filter { folder($0) != nil }

    /// The vocabularies whose GGUF model (with its embedded tokenizer) is installed.
    static let installedGGUFNames: [String] = [("smollm2", TestPaths.smolLM2), ("gemma3", TestPaths.gemma3)]
        .filter { $0.1 != nil }.map(\.0)

    /// Why a test over real vocabularies did not run.
    static let missingReason: Comment = "no reference tokenizer.json installed: run Scripts/fixtures_tokenizer.py"

    /// The tests over `installedNames` run only when at least one is installed.
    static var whenInstalled: ConditionTrait { .enabled(if: !installedNames.isEmpty, missingReason) }

    /// The committed test strings.
    static let strings: [String] = {
        let data = (try? Data(contentsOf: TestPaths.fixture("tokenizer/strings.json"))) ?? Data("[]".utf8)
        return (try? JSONDecoder().decode([String].self, from: data)) ?? []
    }()

    /// Reference ids for one vocabulary.
    struct Reference: Decodable {
        var ids: [[Int]]
        var roundtrip: [Bool]
        var special_ids: [[Int]]
    }

    static func reference(_ name: String) throws -> Reference {
        let data = try Data(contentsOf: TestPaths.fixture("tokenizer/\(name).json"))
        return try JSONDecoder().decode(Reference.self, from: data)
    }

    /// The installed tokenizer `name` and its reference ids.
    static func loadedWithReference(_ name: String) throws -> (Tokenizer, Reference) {
        (try #require(loaded[name], "\(name) failed to load"), try reference(name))
    }

    /// Tokenizers are loaded once per test process.
    static let loaded: [String: Tokenizer] = {
        var out: [String: Tokenizer] = [:]
        for name in ["llama3", "qwen2", "smollm2", "gemma3"] {
            if let url = folder(name), let t = try? Tokenizer.load(from: url) { out[name] = t }
        }
        return out
    }()

    static let ggufLoaded: [String: Tokenizer] = {
        var out: [String: Tokenizer] = [:]
        if let url = TestPaths.smolLM2, let t = try? Tokenizer.load(from: url) { out["smollm2"] = t }
        if let url = TestPaths.gemma3, let t = try? Tokenizer.load(from: url) { out["gemma3"] = t }
        return out
    }()

    /// Compares a tokenizer against the reference ids; returns descriptions of the mismatches.
    static func mismatches(_ tokenizer: Tokenizer, _ ref: Reference, limit: Int = 8) throws -> (
        count: Int, examples: [String]
    ) {
        var count = 0
        var examples: [String] = []
        for (k, text) in strings.enumerated() {
            let ids = try tokenizer.encode(text, addSpecialTokens: false)
            if ids != ref.ids[k] {
                count += 1
                if examples.count < limit {
                    examples.append(
                        "#\(k) \(text.debugDescription.prefix(120)): got \(ids.prefix(40)) expected \(ref.ids[k].prefix(40))"
                    )
                }
            }
        }
        return (count, examples)
    }
}
