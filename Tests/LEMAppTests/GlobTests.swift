import Testing

@testable import LEMApp

/// `lem pull --include` matches as Python's fnmatch (huggingface_hub's allow_patterns).
@Suite struct GlobTests {
    @Test func fnmatchSemantics() {
        let cases: [(String, String, Bool)] = [
            ("*.json", "config.json", true), ("*.json", "sub/config.json", true),  // * crosses "/"
            ("*.json", "config.jsonl", false), ("model-*.safetensors", "model-00001-of-00002.safetensors", true),
            ("?.txt", "a.txt", true), ("?.txt", "ab.txt", false), ("[ab].txt", "b.txt", true),
            ("[!ab].txt", "b.txt", false), ("[a-c]x", "cx", true), ("sub/", "sub/notes.txt", true),
            ("sub/", "other/notes.txt", false), ("*", "", true), ("", "x", false), ("**", "a/b", true),
            ("*Q4_K_M*", "gemma-3-1b-it-Q4_K_M.gguf", true), ("*.GGUF", "x.gguf", false)
        ]
        for (pattern, path, expected) in cases {
            #expect(Glob.matches(pattern, path) == expected, "\(pattern) ~ \(path)")
        }
    }
}
