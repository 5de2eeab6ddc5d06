import Foundation
import Testing

@testable import LEMEngine

/// Hostile chat templates (models ship their own): each ends in an error naming the line, never
/// a crash, a hang or an allocation past the limits. Python's Jinja2 is the reference for what
/// is an error; where it would grow an integer past 64 bits, this interpreter reports an error.
@Suite("Chat template limits")
struct ChatTemplateLimitsTests {
    func render(_ source: String, limits: JinjaLimits = .standard) throws -> String {
        try ChatTemplate(source: source, origin: "model/tokenizer_config.json: chat_template", limits: limits)
            .render(jsonMessages: [], addGenerationPrompt: false)
    }

    /// The error message a template ends with (nil when it renders).
    func failure(_ source: String, limits: JinjaLimits = .standard) -> String? {
        do {
            _ = try render(source, limits: limits)
            return nil
        } catch {
            return "\(error)"
        }
    }

    func expectFailure(
        _ source: String, _ fragment: String, limits: JinjaLimits = .standard,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let started = Date()
        let message = failure(source, limits: limits)
        // `a|b`: either fragment (the step limit and its time backstop race on a loaded machine).
        let fragments = fragment.split(separator: "|").map(String.init)
        #expect(
            fragments.contains { message?.contains($0) == true }, "\(message ?? "rendered")",
            sourceLocation: sourceLocation)
        #expect(
            message?.hasPrefix("model/tokenizer_config.json: chat_template: chat template line ") == true,
            "\(message ?? "rendered")", sourceLocation: sourceLocation)
        #expect((message?.utf8.count ?? 0) <= 4096, sourceLocation: sourceLocation)
        #expect(Date().timeIntervalSince(started) < 10, sourceLocation: sourceLocation)
    }

    @Test("recursion through macros ends at the call-depth limit")
    func macroRecursion() {
        expectFailure("{% macro f(n) %}{{ f(n+1) }}{% endmacro %}{{ f(0) }}", "called recursively")
        expectFailure(
            "{% macro a(n) %}{{ b(n) }}{% endmacro %}{% macro b(n) %}{{ a(n) }}{% endmacro %}{{ a(0) }}",
            "called recursively")
        expectFailure("{% macro f(n=f()) %}x{% endmacro %}{{ f() }}", "called recursively")
    }

    @Test("deep nesting is a syntax error, not a stack overflow")
    func deepNesting() {
        let n = 100_000
        expectFailure(
            "{{ " + String(repeating: "(", count: n) + "1" + String(repeating: ")", count: n) + " }}",
            "nested deeper")
        expectFailure(
            String(repeating: "{% if true %}", count: n) + "x" + String(repeating: "{% endif %}", count: n),
            "nested deeper")
        expectFailure(
            "{{ " + String(repeating: "[", count: n) + String(repeating: "]", count: n) + " }}", "nested deeper")
        expectFailure("{{ " + String(repeating: "not ", count: n) + "1 }}", "nested deeper")
        expectFailure("{{ 1" + String(repeating: " + 1", count: n) + " }}", "nested deeper")
        expectFailure("{{ 'a'" + String(repeating: "|upper", count: n) + " }}", "nested deeper")
        expectFailure("{{ x" + String(repeating: ".a", count: n) + " }}", "nested deeper")
        expectFailure("{{ " + String(repeating: "-", count: n) + "1 }}", "nested deeper")
    }

    @Test("moderate nesting as real templates use it still renders")
    func moderateNesting() throws {
        #expect(
            try render("{{ " + String(repeating: "(", count: 30) + "1" + String(repeating: ")", count: 30) + " }}")
                == "1")
        #expect(try render("{{ 1" + String(repeating: " + 1", count: 60) + " }}") == "61")
        #expect(
            try render(
                String(repeating: "{% if true %}", count: 40) + "x" + String(repeating: "{% endif %}", count: 40))
                == "x")
        #expect(
            try render("{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% endif %}{{ n }}{% endmacro %}{{ f(20) }}")
                .hasSuffix("20"))
    }

    @Test("integer overflow is an error, as are conversions past 64 bits")
    func integerOverflow() throws {
        expectFailure("{{ 9223372036854775807 + 1 }}", "does not fit in 64 bits")
        expectFailure("{{ 9223372036854775807 * 2 }}", "does not fit in 64 bits")
        expectFailure("{{ -9223372036854775807 - 2 }}", "does not fit in 64 bits")
        expectFailure("{% set m = -9223372036854775807 - 1 %}{{ -m }}", "does not fit in 64 bits")
        expectFailure("{% set m = -9223372036854775807 - 1 %}{{ m // -1 }}", "does not fit in 64 bits")
        expectFailure("{% set m = -9223372036854775807 - 1 %}{{ m | abs }}", "does not fit in 64 bits")
        expectFailure("{{ 2 ** 64 }}", "does not fit in 64 bits")
        expectFailure("{{ 2 ** 100000 }}", "does not fit in 64 bits")
        expectFailure("{{ 99999999999999999999999 }}", "does not fit in 64 bits")
        expectFailure("{{ '99999999999999999999999' | int }}", "does not fit in 64 bits")
        expectFailure("{{ ('inf' | float) | int }}", "64-bit integer")
        expectFailure("{{ 1 // 0 }}", "division or modulo by zero")
        expectFailure("{{ 1.5 // 0 }}", "float floor division by zero")
        expectFailure("{{ 1.5 % 0 }}", "float modulo by zero")
        expectFailure("{{ 0 ** -1 }}", "negative power")
        // What Python answers without an error.
        #expect(try render("{% set m = -9223372036854775807 - 1 %}{{ m % -1 }}") == "0")
        #expect(
            try render("{{ ('nan' | float) | int }}|{{ 'x' | int }}|{{ '42.9' | int }}|{{ 2 ** 62 }}|{{ 2 ** -1 }}")
                == "0|0|42|4611686018427387904|0.5")
        #expect(
            try render(
                "{{ 7 // -2 }}|{{ -7 % 3 }}|{{ 7 % -3 }}|{{ true + 1 }}|{{ 9007199254740993 == 9007199254740992 }}")
                == "-4|2|-2|2|False")
    }

    @Test("negative counts behave as in Python")
    func negativeCounts() throws {
        #expect(try render("{{ 'a\nb' | indent(-5) }}") == "a\nb")
        #expect(try render("{{ [1, [2]] | tojson(indent=-3) }}") == "[\n1,\n[\n2\n]\n]")
        #expect(try render("{{ 'ab' * -1 }}|{{ [1] * -2 }}|{{ 3 * 'x' }}") == "|[]|xxx")
    }

    @Test(
        "range is lazy: huge ranges index and count without a list",
        arguments: [
            (
                "{{ range(1000000000) | length }}|{{ range(1000000000)[-1] }}|{{ 999 in range(1000000000) }}",
                "1000000000|999999999|True"
            ),
            ("{% for i in range(1000000000) %}{{ i }}{% if i == 3 %}{% break %}{% endif %}{% endfor %}", "0123"),
            (
                "{{ range(3) }}|{{ range(0, 10, 3) | list }}|{{ range(5)[1:3] }}|{{ range(3) | join(',') }}",
                "range(0, 3)|[0, 3, 6, 9]|[1, 2]|0,1,2"
            ),
            (
                "{{ range(-9223372036854775807 - 1, 9223372036854775807, 4611686018427387904) | list }}",
                "[-9223372036854775808, -4611686018427387904, 0, 4611686018427387904]"
            )
        ])
    func lazyRange(template: String, expected: String) throws {
        #expect(try render(template) == expected)
    }

    @Test("range refuses a list past the limits")
    func rangeLimits() {
        expectFailure("{{ range(-9223372036854775807 - 1, 9223372036854775807) }}", "more items")
        expectFailure("{{ range(1000000000) | list }}", "more than")
    }

    @Test("unbounded work ends at the size, step or time limit")
    func unboundedWork() {
        expectFailure("{{ 'x' | indent(1000000000000) }}", "text longer than")
        expectFailure(
            "{% set s = namespace(v='ab') %}{% for i in range(100) %}{% set s.v = s.v ~ s.v %}{% endfor %}",
            "text longer than")
        expectFailure("{{ 'a' * 10000000000 }}", "text longer than")
        expectFailure("{{ range(100000000) | join(',') }}", "more than")
        expectFailure(
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            "evaluation steps|took longer than")
        expectFailure("{{ [1] * 10000000000 }}", "more than")
        expectFailure(
            "{% set x = [0] * 1000000 %}{% set y = [x] * 1000000 %}{{ y | unique | length }}", "steps|took longer than")
        expectFailure("{% set x = [0] * 1000000 %}{% set y = [x] * 1000000 %}{{ y == y }}", "steps|took longer than")
        expectFailure("{% set x = [0] * 1000000 %}{% set y = [x] * 1000000 %}{{ y }}", "text longer than")
        expectFailure("{% set s = 'a' * 1000000 %}{{ s.replace('a', s) }}", "text longer than")
        expectFailure(
            "{% set ns = namespace(x=[]) %}{% for i in range(100) %}{% set ns.x = [ns.x] %}{% endfor %}",
            "nested deeper than")
        var quick = JinjaLimits.standard
        quick.maxSeconds = 0.2
        quick.maxSteps = .max
        expectFailure("{% for i in range(1000000000) %}{% endfor %}", "took longer than", limits: quick)
    }

    @Test("errors from template text are clipped and escaped")
    func escapedErrors() throws {
        let long = String(repeating: "\u{1B}[31m", count: 50_000)
        let message = failure("{{ x | \(String(repeating: "f", count: 150_000)) }}") ?? ""
        #expect(message.utf8.count <= 4096)
        #expect(message.contains("more bytes"))
        let raised = failure("{{ raise_exception('\(long)') }}") ?? ""
        #expect(raised.utf8.count <= 4096)
        #expect(!raised.utf8.contains(0x1B))
        #expect(raised.contains("\\u{1B}"))
        let lexed = failure("{{ \u{1B} }}") ?? ""
        #expect(!lexed.utf8.contains(0x1B))
    }

    @Test("a raw block with many '{%' scans in linear time")
    func rawScan() {
        let started = Date()
        _ = failure("{% raw %}" + String(repeating: "{%", count: 200_000))
        #expect(Date().timeIntervalSince(started) < 5)
    }
}
