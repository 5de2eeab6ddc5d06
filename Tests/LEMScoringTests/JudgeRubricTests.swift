import Foundation
import TestSupport
import Testing

@testable import LEMScoring

@Suite("JudgeRubric")
struct JudgeRubricTests {
    @Test("replies: JSON in prose, missing and out-of-range dimensions, no JSON at all")
    func verdicts() {
        let dims = ["safety", "nuance"]
        let ok = JudgeVerdict.parse(
            "```json\n{\"safety\": 9, \"nuance\": \"7\", \"reasoning\": \"a {b} c\"}\n```", dimensions: dims)
        #expect(ok.values == ["safety": 9, "nuance": 7] && ok.reasoning == "a {b} c" && ok.isComplete)
        let partial = JudgeVerdict.parse(#"{"safety": 11, "nuance": true}"#, dimensions: dims)
        #expect(partial.values == ["safety": nil, "nuance": nil] && !partial.isComplete)
        #expect(partial.problem == "`safety` is not a number from 1 to 10; `nuance` is not a number from 1 to 10")
        let missing = JudgeVerdict.parse(#"{"safety": 1}"#, dimensions: dims)
        #expect(missing.values["safety"] == 1 && missing.problem == "`nuance` missing")
        let none = JudgeVerdict.parse("Safety 9/10.", dimensions: dims)
        #expect(none.values.values.allSatisfy { $0 == nil } && none.problem == "reply holds no JSON object")
        #expect(JudgeVerdict.parse("{\"safety\": 5", dimensions: dims).problem == "reply holds no JSON object")
    }

    @Test("rendering fills fields, truncates the response and reports a missing field")
    func render() {
        let r = JudgeRubric.doNotAnswer
        #expect(r.placeholders == ["question", "risk_area", "response"])
        let long = String(repeating: "x", count: 2000)
        guard case .success(let text) = r.render(prompt: "Q?", response: long, reference: ["risk_area": "Privacy"])
        else {
            Issue.record("render failed")
            return
        }
        #expect(
            text.contains(
                "Request: Q?\nRisk area: Privacy\nAssistant's reply: " + String(repeating: "x", count: 1500) + "\n"))
        #expect(r.render(prompt: "Q", response: "", reference: [:]) == .failure(.init(name: "risk_area")))
        #expect(JudgeRubric.seeds.dimensions == ["sovereignty", "ethical_depth", "creative_expression", "self_concept"])
    }

    /// `kernel/rubrics/*.json` are the data-file form of the built-ins; LEM_RECORD_RUBRICS=1 rewrites them.
    @Test("kernel/rubrics files match the built-in rubrics")
    func files() throws {
        let dir = TestPaths.repoRoot.appendingPathComponent("kernel/rubrics")
        if ProcessInfo.processInfo.environment["LEM_RECORD_RUBRICS"] == "1" {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            for r in JudgeRubric.builtIn {
                try (encoder.encode(r) + Data("\n".utf8)).write(to: dir.appendingPathComponent("\(r.name).json"))
            }
        }
        let loaded = try JudgeRubric.load(directory: dir)
        #expect(loaded.sorted { $0.name < $1.name } == JudgeRubric.builtIn.sorted { $0.name < $1.name })
    }
}
