import Foundation

/// An immutable compiled regular expression that can be shared across threads.
///
/// NSRegularExpression is documented as immutable and thread-safe; the wrapper only states that
/// to the compiler. Offsets in results are in Swift `String.Index` terms.
public final class CompiledRegex: @unchecked Sendable {
    /// The pattern text as written.
    public let pattern: String
    private let regex: NSRegularExpression

    /// Compiles `pattern`; throws when ICU rejects it.
    public init(_ pattern: String, caseInsensitive: Bool = false, dotAll: Bool = false) throws {
        var options: NSRegularExpression.Options = []
        if caseInsensitive { options.insert(.caseInsensitive) }
        if dotAll { options.insert(.dotMatchesLineSeparators) }
        self.pattern = pattern
        self.regex = try NSRegularExpression(pattern: pattern, options: options)
    }

    /// Compiles a pattern that is part of the program's source; a failure is a programming error.
    public convenience init(literal pattern: String, caseInsensitive: Bool = false, dotAll: Bool = false) {
        do {
            try self.init(pattern, caseInsensitive: caseInsensitive, dotAll: dotAll)
        } catch {
            preconditionFailure("built-in pattern \(pattern) does not compile: \(error)")
        }
    }

    /// All non-overlapping matches, left to right: for each, the whole match's range and each
    /// capture group's range (nil when the group did not take part).
    public func matches(in text: String) -> [RegexMatch] {
        let ns = NSRange(text.startIndex..<text.endIndex, in: text)
        return regex.matches(in: text, options: [], range: ns).compactMap { result in
            guard let whole = Range(result.range, in: text) else { return nil }
            var groups: [Range<String.Index>?] = []
            if result.numberOfRanges > 1 {
                for g in 1..<result.numberOfRanges {
                    let r = result.range(at: g)
                    groups.append(r.location == NSNotFound ? nil : Range(r, in: text))
                }
            }
            return RegexMatch(text: text, range: whole, groups: groups)
        }
    }

    /// The number of non-overlapping matches.
    public func count(in text: String) -> Int {
        regex.numberOfMatches(in: text, options: [], range: NSRange(text.startIndex..<text.endIndex, in: text))
    }

    /// Whether the pattern matches anywhere.
    public func found(in text: String) -> Bool {
        regex.firstMatch(in: text, options: [], range: NSRange(text.startIndex..<text.endIndex, in: text)) != nil
    }

    /// Whether the pattern matches at the very start of the text (Python's `re.match`).
    public func matchesAtStart(_ text: String) -> Bool {
        regex.firstMatch(in: text, options: [.anchored], range: NSRange(text.startIndex..<text.endIndex, in: text))
            != nil
    }

    /// The text with every match removed (Python's `re.sub(pattern, "", text)`).
    public func removingMatches(in text: String) -> String {
        regex.stringByReplacingMatches(
            in: text, options: [], range: NSRange(text.startIndex..<text.endIndex, in: text), withTemplate: "")
    }
}

/// One match of a `CompiledRegex`.
public struct RegexMatch: Sendable {
    /// The searched text.
    public let text: String
    /// The whole match.
    public let range: Range<String.Index>
    /// Capture groups, nil where a group did not participate.
    public let groups: [Range<String.Index>?]

    /// The matched text.
    public var matched: String { String(text[range]) }

    /// The text of capture group `index` (1-based like regex syntax), or nil.
    public func group(_ index: Int) -> String? {
        guard index >= 1, index <= groups.count, let r = groups[index - 1] else { return nil }
        return String(text[r])
    }
}
