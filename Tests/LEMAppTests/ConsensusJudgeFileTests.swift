import Foundation
import LEMCore
import LEMScoring
import TestSupport
import Testing

@testable import LEMApp

@Suite("ConsensusJudgeFile")
struct ConsensusJudgeFileTests {
    @Test("YAML: local judges, a rubric variant, an endpoint; defaults from the top level")
    func yaml() throws {
        let specs = try ConsensusJudgeSpec.parse(
            """
            max_tokens: 8
            judges:
              - name: smol
                model: SmolLM2-135M-Instruct.Q4_1.gguf
              - name: smol-strict
                model: SmolLM2-135M-Instruct.Q4_1.gguf
                prompt: "Strictly: {question} A={answer_a} B={answer_b}. A, B or tie?"
                temperature: 0.7
                seed: 3
              - name: big
                url: http://gpu.example:8080/v1
                model: qwen
                api_key_env: BIG_KEY
            """, file: "judges.yaml")
        #expect(specs.map(\.name) == ["smol", "smol-strict", "big"])
        #expect(specs[0].source == .local(model: "SmolLM2-135M-Instruct.Q4_1.gguf", adapter: nil))
        #expect(specs[0].prompt == .standard && specs[0].maxTokens == 8 && specs[0].temperature == 0)
        #expect(specs[1].prompt.template.hasPrefix("Strictly:") && specs[1].temperature == 0.7 && specs[1].seed == 3)
        #expect(
            specs[2].source
                == .http(url: URL(string: "http://gpu.example:8080/v1")!, model: "qwen", keyVariable: "BIG_KEY"))
    }

    @Test("JSON works too (it is YAML's flow style)")
    func json() throws {
        let specs = try ConsensusJudgeSpec.parse(
            #"{"judges": [{"name": "a", "model": "m.gguf"}, {"name": "b", "url": "https://h/v1"}]}"#, file: "j.json")
        #expect(
            specs.count == 2
                && specs[1].source
                    == .http(
                        url: URL(string: "https://h/v1")!, model: "judge",
                        keyVariable: "LEM_JUDGE_API_KEY")
        )
    }

    @Test("mistakes name the file, the line and what was expected")
    func errors() {
        func message(_ text: String) -> String { errorMessage { try ConsensusJudgeSpec.parse(text, file: "j.yaml") } }
        #expect(message("max_tokens: 3") == "j.yaml: no `judges:` list (each judge: name, and model or url)")
        #expect(message("judges: []").hasSuffix("`judges` must be a non-empty list"))
        #expect(message("judges:\n  - name: a\n    modle: x\n").hasPrefix("j.yaml:3: unknown key `modle`"))
        #expect(
            message("judges:\n  - name: a\n") == "j.yaml:2: judge a needs `model` (a local model) or `url` (an engine)")
        #expect(
            message("judges:\n  - name: a\n    model: m\n  - name: a\n    model: m\n").contains(
                "two judges are named a"))
        #expect(message("judges:\n  - name: a\n    url: ftp://x\n").contains("`url` must be http(s)://host:port/v1"))
        #expect(
            message("judges:\n  - name: a\n    model: m\n    prompt: \"{question}\"\n").contains(
                "prompt lacks {answer_a}"))
        #expect(message("judges:\n  - name: a\n    model: m\n    max_tokens: 0\n").hasPrefix("j.yaml:4: `max_tokens`"))
    }
}
