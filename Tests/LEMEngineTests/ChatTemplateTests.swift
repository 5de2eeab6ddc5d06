import Foundation
import LEMCore
import TestSupport
import Testing

@testable import LEMEngine

/// Chat templates rendered by LEM's Jinja interpreter against transformers' `apply_chat_template`.
@Suite("Chat templates")
struct ChatTemplateTests {
    struct Case: Decodable {
        var template: String
        var bos_token: String?
        var eos_token: String?
        var messages: [ChatMessage]
        var add_generation_prompt: Bool
        var date_string: String
        var expected: String?
        var error: String?
    }

    static let cases: [Case] = {
        guard let data = try? Data(contentsOf: TestPaths.fixture("tokenizer/templates.json")) else { return [] }
        return (try? JSONDecoder().decode([Case].self, from: data)) ?? []
    }()

    @Test("real templates render byte for byte like transformers")
    func referenceRenderings() throws {
        #expect(Self.cases.count >= 90)
        var failures: [String] = []
        for (k, c) in Self.cases.enumerated() {
            let source = try String(
                contentsOf: TestPaths.fixture("tokenizer/templates/\(c.template).jinja"), encoding: .utf8)
            let template = try ChatTemplate(source: source, bosToken: c.bos_token, eosToken: c.eos_token)
            let json = c.messages.map { ["role": $0.role, "content": $0.content] as [String: Any] }
            do {
                let out = try template.render(
                    jsonMessages: json, addGenerationPrompt: c.add_generation_prompt,
                    extra: ["date_string": c.date_string])
                if let expected = c.expected, out != expected {
                    failures.append(
                        "#\(k) \(c.template): got \(out.debugDescription)\nexpected \(expected.debugDescription)")
                } else if c.error != nil {
                    failures.append("#\(k) \(c.template): expected an exception, rendered \(out.debugDescription)")
                }
            } catch let error as TemplateError {
                if case .raised(let message) = error, message == c.error { continue }
                failures.append("#\(k) \(c.template): \(error)")
            }
        }
        #expect(failures.isEmpty, "\(failures.count) failures:\n\(failures.prefix(5).joined(separator: "\n"))")
    }

    @Test("ChatMessage API renders Gemma 3 with the system prompt folded into the first user turn")
    func gemmaSystemFold() throws {
        let source = try String(contentsOf: TestPaths.fixture("tokenizer/templates/gemma3.jinja"), encoding: .utf8)
        let t = try ChatTemplate(source: source, bosToken: "<bos>", eosToken: "<eos>")
        let out = try t.render(messages: [
            ChatMessage(role: "system", content: "Be kind."),
            ChatMessage(role: "user", content: "Hi")
        ])
        #expect(out == "<bos><start_of_turn>user\nBe kind.\n\nHi<end_of_turn>\n<start_of_turn>model\n")
    }

    func render(_ source: String, _ vars: [String: Any] = [:]) throws -> String {
        try ChatTemplate(source: source).render(jsonMessages: [], addGenerationPrompt: false, extra: vars)
    }

    /// (template, output): loops, namespace, slicing, filters, tests, methods, macros, operators,
    /// whitespace control, break/continue.
    static let subsetCases: [(String, String)] = [
        (
            "{% for x in [1,2,3] %}{{ loop.index }}{{ loop.index0 }}{% if loop.first %}F{% endif %}{% if loop.last %}L{{ loop.length }}{% endif %}{% endfor %}",
            "10F21" + "32L3"
        ),
        ("{% set ns = namespace(n=0) %}{% for x in 'abc' %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}", "3"),
        ("{{ [1,2,3,4][::-1] }}|{{ 'hello'[1:3] }}|{{ [1,2,3][-1] }}", "[4, 3, 2, 1]|el|3"),
        (
            "{{ '  a b  ' | trim | upper }}|{{ [1,2] | length }}|{{ x | default('d') }}|{{ ['a','b'] | join('-') }}",
            "A B|2|d|a-b"
        ),
        ("{{ {'a': [1, 'x', none, true]} | tojson }}", "{\"a\": [1, \"x\", null, true]}"),
        (
            "{{ x is defined }}{{ none is none }}{{ 'a' is string }}{{ {} is mapping }}{{ 3 is not string }}",
            "FalseTrueTrueTrueTrue"
        ),
        ("{{ 'b' in 'abc' }}{{ 2 not in [1,3] }}{{ 'k' in {'k': 1} }}", "TrueTrueTrue"),
        ("{{ ' x '.strip() }}{{ 'ab'.startswith('a') }}{{ 'a,b'.split(',')[1] }}{{ {'k': 'v'}.get('k') }}", "xTruebv"),
        ("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}", "a=1;b=2;"),
        ("{% macro m(a, b='z') %}[{{ a }}{{ b }}]{% endmacro %}{{ m(1) }}{{ m(2, b='y') }}", "[1z][2y]"),
        ("{{ 'a' ~ 1 ~ none }}|{{ 1 + 2 * 3 }}|{{ 7 // 2 }}|{{ 7 % 3 }}|{{ 'x' if false else 'y' }}", "a1None|7|3|1|y"),
        ("a  {%- if true -%}  b  {%- endif -%}  c", "abc"),
        ("{% if true %}\n  x\n{% endif %}\n", "  x\n"),
        ("  {% if true %}y{% endif %}", "y"),
        (
            "{% for x in [1,2,3,4] %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}",
            "13"
        ),
        ("{{ 'hello world' | title }}{{ 'abc' | capitalize }}{{ '3' | int + 1 }}{{ 5 | string }}", "Hello WorldAbc45")
    ]

    @Test("Jinja subset: loops, namespace, slicing, filters, tests, macros", arguments: subsetCases)
    func jinjaSubset(template: String, expected: String) throws {
        #expect(try render(template) == expected)
    }

    @Test("errors name the template line")
    func errors() throws {
        #expect(throws: TemplateError.runtime(line: 2, message: "unknown filter 'frobnicate'")) {
            try render("ok\n{{ 'a' | frobnicate }}")
        }
        do {
            _ = try render("line1\nline2\n{% while true %}x{% endwhile %}")
            Issue.record("expected a syntax error")
        } catch let error as TemplateError {
            #expect(error == .syntax(line: 3, message: "unsupported statement {% while %}"))
            #expect(error.description.contains("line 3"))
        }
        #expect(throws: TemplateError.self) { try render("{% if x %}unclosed") }
        #expect(throws: TemplateError.raised(message: "boom")) { try render("{{ raise_exception('boom') }}") }
        #expect(throws: TemplateError.self) { try render("{{ 'unterminated }}") }
    }

    @Test("built-in fallbacks are chosen by turn markers")
    func fallbacks() throws {
        let gemma = try ChatTemplate(source: ChatTemplate.gemmaFallback, bosToken: "<bos>", eosToken: "<eos>")
        #expect(
            try gemma.render(
                messages: [ChatMessage(role: "user", content: "Hi "), ChatMessage(role: "assistant", content: "Yo")],
                addGenerationPrompt: false)
                == "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\nYo<end_of_turn>\n")
        let chatml = try ChatTemplate(source: ChatTemplate.chatMLFallback)
        #expect(
            try chatml.render(messages: [ChatMessage(role: "user", content: "Hi")])
                == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
    }
}
