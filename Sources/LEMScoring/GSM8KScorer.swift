import Foundation

/// Exact-match scoring of GSM8K answers under three extraction rules.
///
/// - `lem`: the LEM repository's rule — the number after `####` if present, else the last number
///   preceded by start, whitespace or `=`; correct when both parse as numbers within 0.01 (else
///   compared as trimmed strings). Empty responses and responses starting `ERROR` are wrong.
/// - `lmevalStrict`: lm-evaluation-harness `gsm8k` filter `strict-match` — regex
///   `#### (\-?[0-9\.\,]+)`, first match, else `[invalid]`.
/// - `lmevalFlexible`: its `flexible-extract` — regex `(-?[$0-9.,]{2,})|(-?[0-9]+)`, last match,
///   first non-empty group.
/// The two harness rules compare after the task's `exact_match` normalisation: remove `,`, `$`,
/// everything up to the last `#### `, and one trailing `.`, then lower-case; the reference is
/// the item's `answer_cot` (the dataset answer) when present, else `#### ` + `correct_answer`.
public struct GSM8KScorer: TextScorer {
    /// Which extraction rule the scorer applies.
    public enum Rule: String, Sendable, CaseIterable {
        case lem
        case lmevalStrict = "lmeval-strict"
        case lmevalFlexible = "lmeval-flexible"
    }

    /// The rule this scorer applies.
    public let rule: Rule
    public var name: String { "gsm8k-\(rule.rawValue)" }
    public let version = "1"
    /// GSM8K answers only: the rules extract a number and compare it with the item's answer.
    public var benchmarks: Set<String>? { ["gsm8k"] }

    /// Creates a scorer for one rule.
    public init(rule: Rule) { self.rule = rule }

    public func score(_ input: ScoringInput) -> [DimensionScore] {
        let expected = input.reference["correct_answer"] ?? ""
        switch rule {
        case .lem:
            let (correct, extracted) = Self.lemMatch(response: input.response, expected: expected)
            return [DimensionScore("correct", correct ? 1 : 0, detail: Self.detail(extracted, expected))]
        case .lmevalStrict, .lmevalFlexible:
            let reference = input.reference["answer_cot"] ?? "#### \(expected)"
            let extracted =
                rule == .lmevalStrict
                ? Self.strictExtract(input.response) : Self.flexibleExtract(input.response)
            let correct = Self.harnessNormalise(extracted) == Self.harnessNormalise(reference)
            return [DimensionScore("correct", correct ? 1 : 0, detail: Self.detail(extracted, expected))]
        }
    }

    private static func detail(_ extracted: String?, _ expected: String) -> String {
        "extracted=\(extracted ?? "none") expected=\(expected)"
    }

    private static let hashAnswer = CompiledRegex(literal: #"####\s*([\d,.-]+)"#)
    private static let lastNumber = CompiledRegex(literal: #"(?:^|[\s=])(-?[\d,]+(?:\.\d+)?)"#)

    /// The LEM rule: whether the response's answer equals `expected`, and the extracted answer.
    public static func lemMatch(response: String, expected: String) -> (Bool, String?) {
        if response.isEmpty || response.hasPrefix("ERROR") { return (false, nil) }
        let extracted: String
        if let m = hashAnswer.matches(in: response).first, let g = m.group(1) {
            extracted = g.replacingOccurrences(of: ",", with: "").trimmingCharacters(in: .whitespaces)
        } else if let m = lastNumber.matches(in: response).last, let g = m.group(1) {
            extracted = g.replacingOccurrences(of: ",", with: "").trimmingCharacters(in: .whitespaces)
        } else {
            return (false, nil)
        }
        if let e = Double(expected.replacingOccurrences(of: ",", with: "")), let x = Double(extracted) {
            return (abs(e - x) < 0.01, extracted)
        }
        return (
            extracted.trimmingCharacters(in: .whitespaces) == expected.trimmingCharacters(in: .whitespaces),
            extracted
        )
    }

    private static let strict = CompiledRegex(literal: #"#### (\-?[0-9\.\,]+)"#)
    private static let flexible = CompiledRegex(literal: #"(-?[$0-9.,]{2,})|(-?[0-9]+)"#)

    /// lm-evaluation-harness `strict-match`: the first `#### number`, else `[invalid]`.
    public static func strictExtract(_ response: String) -> String {
        guard let m = strict.matches(in: response).first, let g = m.group(1) else { return "[invalid]" }
        return g.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// lm-evaluation-harness `flexible-extract`: the last number-like match, else `[invalid]`.
    public static func flexibleExtract(_ response: String) -> String {
        guard let m = flexible.matches(in: response).last else { return "[invalid]" }
        let g = m.group(1).flatMap { $0.isEmpty ? nil : $0 } ?? m.group(2) ?? ""
        return g.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static let ignores: [CompiledRegex] = [
        CompiledRegex(literal: ","), CompiledRegex(literal: #"\$"#),
        CompiledRegex(literal: ".*#### ", dotAll: true), CompiledRegex(literal: #"\.$"#)
    ]

    /// The gsm8k task's `exact_match` normalisation (regexes_to_ignore, then ignore_case).
    public static func harnessNormalise(_ text: String) -> String {
        var s = text
        for r in ignores { s = r.removingMatches(in: s) }
        return s.lowercased()
    }
}
