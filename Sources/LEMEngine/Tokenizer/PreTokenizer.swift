import Foundation
import LEMCore

/// A pre-token: a run of input scalars the model encodes on its own.
public struct PreToken: Sendable {
    /// The scalars of the pre-token.
    public var scalars: [Unicode.Scalar]
    /// True when the pre-token starts at the very beginning of the input (for Metaspace `first`).
    public var atStart: Bool
}

/// How a split keeps the matched delimiters (tokenizers' `SplitDelimiterBehavior`).
public enum SplitBehavior: String, Sendable {
    case removed = "Removed", isolated = "Isolated", mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext", contiguous = "Contiguous"

    /// Splits `word` given its matched ranges (in order, non-overlapping), following this behavior.
    func apply(_ word: PreToken, matches: [Range<Int>], invert: Bool) -> [PreToken] {
        var segments: [(Range<Int>, Bool)] = []
        var pos = 0
        for m in matches {
            if m.lowerBound > pos { segments.append((pos..<m.lowerBound, invert)) }
            segments.append((m, !invert))
            pos = m.upperBound
        }
        if pos < word.scalars.count { segments.append((pos..<word.scalars.count, invert)) }
        var out: [Range<Int>] = []
        switch self {
        case .removed: out = segments.filter { !$0.1 }.map(\.0)
        case .isolated: out = segments.map(\.0)
        case .mergedWithPrevious:
            var previousMatch = false
            for (r, isMatch) in segments {
                if isMatch && !previousMatch, let last = out.last {
                    out[out.count - 1] = last.lowerBound..<r.upperBound
                } else {
                    out.append(r)
                }
                previousMatch = isMatch
            }
        case .mergedWithNext:
            var previousMatch = false
            for (r, isMatch) in segments.reversed() {
                if isMatch && !previousMatch, let last = out.last {
                    out[out.count - 1] = r.lowerBound..<last.upperBound
                } else {
                    out.append(r)
                }
                previousMatch = isMatch
            }
            out.reverse()
        case .contiguous:
            var previousMatch: Bool?
            for (r, isMatch) in segments {
                if isMatch == previousMatch, let last = out.last {
                    out[out.count - 1] = last.lowerBound..<r.upperBound
                } else {
                    out.append(r)
                }
                previousMatch = isMatch
            }
        }
        return out.filter { !$0.isEmpty }.map {
            PreToken(scalars: Array(word.scalars[$0]), atStart: word.atStart && $0.lowerBound == 0)
        }
    }
}

/// A tokenizer.json pre-tokenizer: splits normalized text into pre-tokens.
public indirect enum PreTokenizer: Sendable {
    /// Byte-level (GPT-2): optional prefix space, optional GPT-2 regex split; the model sees bytes.
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    /// Split on one of the known regexes.
    case splitPattern(SplitPattern, SplitBehavior, invert: Bool)
    /// Split on a literal string.
    case splitString(String, SplitBehavior, invert: Bool)
    /// SentencePiece metaspace: spaces become `replacement`, optionally prepended and split on.
    case metaspace(replacement: Unicode.Scalar, prependScheme: String, split: Bool)
    /// Digits isolated one by one, or in runs.
    case digits(individual: Bool)
    /// Splits on whitespace, dropping it.
    case whitespaceSplit
    /// Applies pre-tokenizers in order.
    case sequence([PreTokenizer])

    /// True when this pre-tokenizer (or one inside it) hands the model byte-level text.
    var isByteLevel: Bool {
        switch self {
        case .byteLevel: return true
        case .sequence(let list): return list.contains { $0.isByteLevel }
        default: return false
        }
    }

    /// Splits each pre-token further.
    func apply(_ words: [PreToken]) -> [PreToken] {
        switch self {
        case .sequence(let list): return list.reduce(words) { $1.apply($0) }
        default: return words.flatMap { applyOne($0) }
        }
    }

    private func applyOne(_ word: PreToken) -> [PreToken] {
        switch self {
        case let .byteLevel(addPrefixSpace, useRegex):
            var w = word
            if addPrefixSpace && w.scalars.first != " " { w.scalars.insert(" ", at: 0) }
            return useRegex ? PreTokenizer.splitPattern(.gpt2, .isolated, invert: false).applyOne(w) : [w]
        case let .splitPattern(pattern, behavior, invert):
            var ranges: [Range<Int>] = []
            var start = 0
            for end in pattern.matchEnds(word.scalars) {
                ranges.append(start..<end)
                start = end
            }
            return behavior.apply(word, matches: ranges, invert: invert)
        case let .splitString(literal, behavior, invert):
            let needle = Array(literal.unicodeScalars)
            guard !needle.isEmpty, word.scalars.count >= needle.count else {
                return behavior.apply(word, matches: [], invert: invert)
            }
            var ranges: [Range<Int>] = []
            var i = 0
            let s = word.scalars
            while i + needle.count <= s.count {
                if s[i] == needle[0] && Array(s[i..<(i + needle.count)]) == needle {
                    ranges.append(i..<(i + needle.count))
                    i += needle.count
                } else {
                    i += 1
                }
            }
            return behavior.apply(word, matches: ranges, invert: invert)
        case let .metaspace(replacement, scheme, split):
            var w = word
            w.scalars = w.scalars.map { $0 == " " ? replacement : $0 }
            let prepend = scheme == "always" || (scheme == "first" && w.atStart)
            if prepend && w.scalars.first != replacement { w.scalars.insert(replacement, at: 0) }
            guard split else { return [w] }
            let ranges = w.scalars.indices.filter { w.scalars[$0] == replacement }.map { $0..<($0 + 1) }
            return SplitBehavior.mergedWithNext.apply(w, matches: ranges, invert: false)
        case let .digits(individual):
            var ranges: [Range<Int>] = []
            for (i, s) in word.scalars.enumerated() where SplitPattern.charClass(s) == .number {
                if !individual, let last = ranges.last, last.upperBound == i {
                    ranges[ranges.count - 1] = last.lowerBound..<(i + 1)
                } else {
                    ranges.append(i..<(i + 1))
                }
            }
            return SplitBehavior.isolated.apply(word, matches: ranges, invert: false)
        case .whitespaceSplit:
            let ranges = word.scalars.indices.filter { word.scalars[$0].properties.isWhitespace }.map { $0..<($0 + 1) }
            return SplitBehavior.removed.apply(word, matches: ranges, invert: false)
        case .sequence(let list):
            return list.reduce([word]) { $1.apply($0) }
        }
    }

    /// Parses a tokenizer.json `pre_tokenizer` object.
    static func parse(_ json: JSONValue?, path: String) throws -> PreTokenizer? {
        guard case let (obj, type)? = try TokenizerError.typedComponent(json, "pre_tokenizer", path: path) else {
            return nil
        }
        switch type {
        case "ByteLevel":
            return .byteLevel(
                addPrefixSpace: obj["add_prefix_space"]?.bool ?? false,
                useRegex: obj["use_regex"]?.bool ?? true)
        case "Split":
            let behaviorName = obj["behavior"]?.string ?? "Isolated"
            guard let behavior = SplitBehavior(rawValue: behaviorName) else {
                throw TokenizerError.unsupported(path: path, feature: "Split behavior \"\(behaviorName)\"")
            }
            let invert = obj["invert"]?.bool ?? false
            let pattern = obj["pattern"]
            if let literal = pattern?["String"]?.string { return .splitString(literal, behavior, invert: invert) }
            if let regex = pattern?["Regex"]?.string {
                guard let known = SplitPattern.recognize(regex) else {
                    throw TokenizerError.unsupported(
                        path: path, feature: "Split regex \(regex) (known: GPT-2, Llama 3 and Qwen2 patterns)")
                }
                return .splitPattern(known, behavior, invert: invert)
            }
            throw TokenizerError.invalidFile(
                path: path, reason: "pre_tokenizer Split: expected pattern.String or pattern.Regex")
        case "Metaspace":
            let replacement = obj["replacement"]?.string?.unicodeScalars.first ?? "\u{2581}"
            var scheme = obj["prepend_scheme"]?.string ?? "always"
            if let add = obj["add_prefix_space"]?.bool, obj["prepend_scheme"] == nil {
                scheme = add ? "always" : "never"
            }
            return .metaspace(replacement: replacement, prependScheme: scheme, split: obj["split"]?.bool ?? true)
        case "Digits": return .digits(individual: obj["individual_digits"]?.bool ?? false)
        case "WhitespaceSplit": return .whitespaceSplit
        case "Sequence":
            let list = obj["pretokenizers"]?.array ?? []
            return .sequence(try list.compactMap { try parse($0, path: path) })
        default:
            throw TokenizerError.unsupported(path: path, feature: "pre_tokenizer type \"\(type)\"")
        }
    }
}
