import Foundation
import LEMCore
import LEMEngine
import LEMFormats
import TestSupport
import Testing

/// GPT-OSS's harmony chat format: its own template through our Jinja interpreter and our built-in
/// fallback, both against transformers' rendering (Scripts/fixtures_harmony.py), the reply parser
/// and the stop markers.
@Suite("Harmony chat format")
struct HarmonyTests {
    struct Case: Decodable {
        struct Message: Decodable {
            let role: String
            let content: String
            let thinking: String?
        }
        let messages: [Message]
        let add_generation_prompt: Bool
        let reasoning_effort: String?
        let date: String
        let expected: String
    }

    static let cases: [Case] = {
        guard let data = try? Data(contentsOf: TestPaths.fixture("tokenizer/harmony.json")) else { return [] }
        return (try? JSONDecoder().decode([Case].self, from: data)) ?? []
    }()

    /// Renders `c` and puts the case's date where the template wrote today's.
    static func render(_ template: ChatTemplate, _ c: Case) throws -> String {
        let json = c.messages.map { m -> [String: Any] in
            var o: [String: Any] = ["role": m.role, "content": m.content]
            if let t = m.thinking { o["thinking"] = t }
            return o
        }
        let extra: [String: Any] = c.reasoning_effort.map { ["reasoning_effort": $0] } ?? [:]
        let out = try template.render(jsonMessages: json, addGenerationPrompt: c.add_generation_prompt, extra: extra)
        guard let line = out.range(of: #"Current date: \d{4}-\d{2}-\d{2}"#, options: .regularExpression) else {
            return out
        }
        return out.replacingCharacters(in: line, with: "Current date: \(c.date)")
    }

    @Test(
        "gpt-oss's own template and the built-in fallback render byte for byte like transformers",
        .enabled(if: !cases.isEmpty, "harmony fixture absent: run Scripts/fixtures_harmony.py"))
    func renderings() throws {
        let source = try String(contentsOf: TestPaths.fixture("tokenizer/templates/gpt_oss.jinja"), encoding: .utf8)
        let own = try ChatTemplate(source: source)
        let fallback = try ChatTemplate(source: ChatTemplate.harmonyFallback)
        for (k, c) in Self.cases.enumerated() {
            let a = try Self.render(own, c)
            let b = try Self.render(fallback, c)
            #expect(a == c.expected, "#\(k) template: \(a.debugDescription)\nexpected \(c.expected.debugDescription)")
            #expect(b == c.expected, "#\(k) fallback: \(b.debugDescription)\nexpected \(c.expected.debugDescription)")
        }
    }

    @Test("a harmony vocabulary gets the fallback template and stops at <|return|>/<|call|>, not <|end|>")
    func vocabulary() throws {
        let specials = ["<|start|>", "<|end|>", "<|message|>", "<|channel|>", "<|return|>", "<|call|>"]
        var v = GGUFTokenizerValues(model: "gpt2", tokens: ["a", "b"] + specials)
        v.merges = []
        v.tokenTypes = [1, 1] + Array(repeating: 3, count: specials.count)
        let tokenizer = try Tokenizer(gguf: v)
        #expect(ChatTemplate.isHarmony(tokenizer))
        #expect(ChatTemplate.stopMarkers(for: tokenizer) == ["<|return|>", "<|call|>"])
        let template = try ChatTemplate(tokenizer: tokenizer)
        #expect(template.source == ChatTemplate.harmonyFallback)
        let text = try template.render(messages: [ChatMessage(role: .user, content: "hi")])
        #expect(text.hasSuffix("<|start|>user<|message|>hi<|end|><|start|>assistant"))
    }

    @Test("a reply splits into analysis and final; <|return|> ends it")
    func parseReply() {
        let reply = HarmonyReply.parse(
            "<|channel|>analysis<|message|>User asks 2+2. Answer 4.<|end|>"
                + "<|start|>assistant<|channel|>final<|message|>4<|return|>ignored")
        #expect(reply.analysis == "User asks 2+2. Answer 4.")
        #expect(reply.final == "4")
        #expect(reply.messages.map(\.complete) == [true, true])
        #expect(reply.messages.count == 2)
    }

    @Test("a stream is split as it grows: an unfinished message or header")
    func parseStream() {
        #expect(HarmonyReply.parse("<|channel|>analy").messages.isEmpty)
        let thinking = HarmonyReply.parse("<|channel|>analysis<|message|>Let me th")
        #expect(thinking.analysis == "Let me th" && thinking.final.isEmpty && thinking.messages[0].complete == false)
        let between = HarmonyReply.parse("<|channel|>analysis<|message|>Done.<|end|><|start|>assist")
        #expect(between.analysis == "Done." && between.messages.count == 1)
        let answering = HarmonyReply.parse(
            "<|channel|>analysis<|message|>Done.<|end|><|start|>assistant<|channel|>final<|message|>Par")
        #expect(answering.final == "Par" && answering.messages.last?.complete == false)
    }

    @Test("a tool call keeps its header; text without a channel counts as final")
    func parseOther() {
        let call = HarmonyReply.parse(
            "<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{\"city\":\"Paris\"}<|call|>")
        #expect(call.messages.count == 1)
        #expect(call.messages[0].channel == "commentary")
        #expect(call.messages[0].header == " to=functions.get_weather <|constrain|>json")
        #expect(call.messages[0].content == "{\"city\":\"Paris\"}" && call.final.isEmpty)
        #expect(HarmonyReply.parse("Just text.").final == "Just text.")
    }
}
