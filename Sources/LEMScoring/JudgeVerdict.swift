import Foundation
import LEMCore

/// A judge's reply read against a rubric: a value per dimension where the reply gave a valid
/// 1–10 number, and nothing invented where it did not.
///
/// The first balanced `{…}` object in the reply is parsed (judges often wrap JSON in prose or a
/// code fence). A dimension that is missing, not a number, or outside 1–10 is left nil; when no
/// dimension could be read the verdict is unparsed and the caller keeps the raw text.
public struct JudgeVerdict: Sendable, Equatable {
    /// Values keyed by dimension; nil where the reply did not give a valid one.
    public var values: [String: Double?]
    /// The judge's reasoning, if given.
    public var reasoning: String?
    /// Why some or all dimensions are missing, for the stored record.
    public var problem: String?

    /// Whether every dimension has a value.
    public var isComplete: Bool { values.values.allSatisfy { $0 != nil } }

    /// Reads `reply` against the rubric's dimensions.
    public static func parse(_ reply: String, dimensions: [String]) -> JudgeVerdict {
        var verdict = JudgeVerdict(values: Dictionary(uniqueKeysWithValues: dimensions.map { ($0, nil) }))
        guard let json = firstObject(in: reply), let object = (try? JSONValue.parse(Data(json.utf8)))?.object else {
            verdict.problem = "reply holds no JSON object"
            return verdict
        }
        verdict.reasoning = object["reasoning"]?.string
        var problems: [String] = []
        for d in dimensions {
            guard let raw = object[d] else {
                problems.append("`\(d)` missing")
                continue
            }
            let number: Double?
            switch raw {
            case .int, .double: number = raw.double
            case .string(let s): number = Double(s.trimmingCharacters(in: .whitespaces))
            default: number = nil
            }
            guard let v = number, v.isFinite, v >= 1, v <= 10 else {
                problems.append("`\(d)` is not a number from 1 to 10")
                continue
            }
            verdict.values[d] = v
        }
        if !problems.isEmpty { verdict.problem = problems.joined(separator: "; ") }
        return verdict
    }

    /// The first balanced `{…}` substring, honouring JSON strings and escapes.
    static func firstObject(in text: String) -> String? {
        let chars = Array(text.unicodeScalars)
        guard let start = chars.firstIndex(of: "{") else { return nil }
        var depth = 0
        var inString = false
        var escaped = false
        for i in start..<chars.count {
            let c = chars[i]
            if inString {
                if escaped {
                    escaped = false
                } else if c == "\\" {
                    escaped = true
                } else if c == "\"" {
                    inString = false
                }
                continue
            }
            if c == "\"" {
                inString = true
            } else if c == "{" {
                depth += 1
            } else if c == "}" {
                depth -= 1
                if depth == 0 {
                    var s = String.UnicodeScalarView()
                    s.append(contentsOf: chars[start...i])
                    return String(s)
                }
            }
        }
        return nil
    }
}
