import Foundation

/// The grammar differential between a prompt and its response: six 0–1 signals computed from
/// `EnglishTagger` output and their weighted composite.
///
/// - `vocabulary_echo`: share of the prompt's content lemmas (nouns, verbs, adjectives, adverbs
///   of three letters or more) that reappear in the response.
/// - `verb_shift`: Jensen–Shannon divergence (base 2) between the verb-lemma distributions.
/// - `tense_shift`: the same divergence between past/present/future distributions.
/// - `noun_overlap`: Jaccard index of the two noun-lemma sets.
/// - `question_flip`: share of prompt sentences that are questions minus share of response
///   sentences that are questions, floored at 0 (a question answered with statements → 1).
/// - `domain_shift`: divergence between the distributions over the ten probe domains' vocabularies.
/// For the divergences, two empty distributions give 0 and one empty distribution gives 1.
/// Composite = 25 % echo + 20 % verb shift + 20 % tense shift + 15 % noun overlap + 10 % flip +
/// 10 % domain shift.
public struct GrammarDifferential: TextScorer {
    public let name = "grammar"
    public let version = "1"

    /// Creates the scorer.
    public init() {}

    /// The six signals, in the order they are reported, with their names and weights in the
    /// composite (25/20/20/15/10/10 %).
    public enum Signal: String, CaseIterable, Sendable {
        case vocabularyEcho = "vocabulary_echo", verbShift = "verb_shift", tenseShift = "tense_shift"
        case nounOverlap = "noun_overlap", questionFlip = "question_flip", domainShift = "domain_shift"

        /// The signal's weight in the composite.
        public var weight: Double {
            switch self {
            case .vocabularyEcho: 0.25
            case .verbShift, .tenseShift: 0.20
            case .nounOverlap: 0.15
            case .questionFlip, .domainShift: 0.10
            }
        }
    }

    /// The six signals and the composite.
    public struct Signals: Sendable, Equatable {
        /// The values by signal (absent: 0).
        public var values: [Signal: Double] = [:]

        /// Creates signals that are all 0.
        public init() {}

        /// One signal's value.
        public subscript(signal: Signal) -> Double {
            get { values[signal, default: 0] }
            set { values[signal] = newValue }
        }

        /// The weighted composite, summed in the signals' order.
        public var composite: Double { Signal.allCases.reduce(0) { $0 + $1.weight * self[$1] } }
    }

    public func score(_ input: ScoringInput) -> [DimensionScore] {
        let s = Self.signals(prompt: input.prompt, response: input.response)
        return Signal.allCases.map { DimensionScore($0.rawValue, s[$0]) } + [
            DimensionScore("grammar_composite", s.composite)
        ]
    }

    /// Computes the six signals.
    public static func signals(prompt: String, response: String) -> Signals {
        let p = EnglishTagger.tag(prompt)
        let r = EnglishTagger.tag(response)
        var s = Signals()
        let pc = contentLemmas(p)
        let rc = contentLemmas(r)
        s[.vocabularyEcho] = pc.isEmpty ? 0 : Double(pc.intersection(rc).count) / Double(pc.count)
        s[.verbShift] = jensenShannon(
            counts(p.filter { $0.pos == .verb }.map(\.lemma)),
            counts(r.filter { $0.pos == .verb }.map(\.lemma)))
        let pt = EnglishTagger.tenseCounts(p)
        let rt = EnglishTagger.tenseCounts(r)
        s[.tenseShift] = jensenShannon(
            Dictionary(uniqueKeysWithValues: pt.map { ($0.key.rawValue, $0.value) }),
            Dictionary(uniqueKeysWithValues: rt.map { ($0.key.rawValue, $0.value) }))
        let pn = Set(p.filter { $0.pos == .noun }.map(\.lemma))
        let rn = Set(r.filter { $0.pos == .noun }.map(\.lemma))
        let union = pn.union(rn)
        s[.nounOverlap] = union.isEmpty ? 0 : Double(pn.intersection(rn).count) / Double(union.count)
        s[.questionFlip] = max(0, questionShare(p) - questionShare(r))
        s[.domainShift] = jensenShannon(domainCounts(p), domainCounts(r))
        return s
    }

    static func contentLemmas(_ tokens: [TaggedToken]) -> Set<String> {
        Set(tokens.filter { [.noun, .verb, .adjective, .adverb].contains($0.pos) && $0.lemma.count >= 3 }.map(\.lemma))
    }

    static func counts(_ items: [String]) -> [String: Int] {
        items.reduce(into: [:]) { $0[$1, default: 0] += 1 }
    }

    /// Jensen–Shannon divergence in bits (0 identical … 1 disjoint) between two count tables.
    public static func jensenShannon(_ a: [String: Int], _ b: [String: Int]) -> Double {
        let ta = Double(a.values.reduce(0, +))
        let tb = Double(b.values.reduce(0, +))
        if ta == 0 && tb == 0 { return 0 }
        if ta == 0 || tb == 0 { return 1 }
        var js = 0.0
        for key in Set(a.keys).union(b.keys) {
            let p = Double(a[key] ?? 0) / ta
            let q = Double(b[key] ?? 0) / tb
            let m = (p + q) / 2
            if p > 0 { js += 0.5 * p * log2(p / m) }
            if q > 0 { js += 0.5 * q * log2(q / m) }
        }
        return min(max(js, 0), 1)
    }

    /// Share of sentences that are questions: ending in `?`, or opening with a wh-word or an
    /// auxiliary/modal followed by a pronoun or determiner (inverted word order).
    static func questionShare(_ tokens: [TaggedToken]) -> Double {
        var sentences: [[TaggedToken]] = [[]]
        for t in tokens {
            sentences[sentences.count - 1].append(t)
            if [".", "!", "?"].contains(t.text) { sentences.append([]) }
        }
        let real = sentences.filter { $0.contains { $0.pos != .punctuation } }
        guard !real.isEmpty else { return 0 }
        let questions = real.filter { s in
            if s.last?.text == "?" { return true }
            let words = s.filter { $0.pos != .punctuation }
            guard let first = words.first else { return false }
            if first.pos == .wh, words.count > 1, [.auxiliary, .modal].contains(words[1].pos) { return true }
            if [.auxiliary, .modal].contains(first.pos), words.count > 1,
                [.pronoun, .determiner].contains(words[1].pos)
            {
                return true
            }
            return false
        }
        return Double(questions.count) / Double(real.count)
    }

    static func domainCounts(_ tokens: [TaggedToken]) -> [String: Int] {
        var out: [String: Int] = [:]
        for t in tokens {
            let word = t.text.lowercased()
            for d in EnglishLexicon.domainNames
            where EnglishLexicon.domains[d]!.contains(t.lemma)
                || EnglishLexicon.domains[d]!.contains(word)
            {
                out[d, default: 0] += 1
            }
        }
        return out
    }
}
