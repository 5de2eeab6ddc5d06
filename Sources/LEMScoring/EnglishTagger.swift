import Foundation

/// Grammatical tense of a finite verb or auxiliary.
public enum Tense: String, Sendable, CaseIterable {
    case past, present, future
}

/// Coarse parts of speech assigned by `EnglishTagger`.
public enum PartOfSpeech: String, Sendable {
    case noun, verb, auxiliary, modal, adjective, adverb, pronoun, determiner, preposition, conjunction
    case wh, number, punctuation
}

/// One tagged token: the word as written, its lemma, its part of speech and, for finite verbs,
/// auxiliaries and future modals, its tense.
public struct TaggedToken: Sendable, Equatable {
    /// The token as it appears (punctuation included as its own tokens).
    public var text: String
    /// Lower-cased base form (`went` → `go`, `children` stays, `cats` → `cat`).
    public var lemma: String
    /// Part of speech.
    public var pos: PartOfSpeech
    /// Tense, for tense-bearing tokens.
    public var tense: Tense?
}

/// A small rule-based English tagger: lexicon lookup for closed classes and common verbs, then
/// suffix and context rules (after a determiner a word is nominal; after `to` or a modal it is a
/// base verb; after a subject pronoun an `-s`/`-ed` word is a finite verb).
///
/// It is deliberately simple and deterministic: the grammar differential compares a prompt and
/// a response tagged the same way, so systematic errors largely cancel.
public enum EnglishTagger {
    /// Splits text into word, number and punctuation tokens; contractions split off (`don't` →
    /// `do`, `n't`; `I'm` → `I`, `'m`).
    public static func tokenize(_ text: String) -> [String] {
        var tokens: [String] = []
        var current = ""
        func flush() {
            guard !current.isEmpty else { return }
            let lower = current.lowercased()
            if lower.hasSuffix("n't"), current.count > 3 {
                let stem = String(current.dropLast(3))
                tokens.append(lower == "can't" ? "can" : lower == "won't" ? "will" : stem)
                tokens.append("n't")
            } else if let apostrophe = current.lastIndex(of: "'"), apostrophe != current.startIndex,
                ["'m", "'re", "'s", "'ve", "'ll", "'d"].contains(lower[apostrophe...].lowercased())
            {
                tokens.append(String(current[..<apostrophe]))
                tokens.append(String(current[apostrophe...]).lowercased())
            } else {
                tokens.append(current)
            }
            current = ""
        }
        for ch in text.replacingOccurrences(of: "\u{2019}", with: "'") {
            if ch.isLetter || ch.isNumber || ch == "'" || (ch == "-" && !current.isEmpty) {
                current.append(ch)
            } else {
                flush()
                if ch.isPunctuation || ch.isSymbol { tokens.append(String(ch)) }
            }
        }
        flush()
        return tokens
    }

    /// Tags every token of `text`.
    public static func tag(_ text: String) -> [TaggedToken] {
        let words = tokenize(text)
        var out: [TaggedToken] = []
        for (i, word) in words.enumerated() {
            let lower = word.lowercased()
            let prev = out.last
            let next = i + 1 < words.count ? words[i + 1].lowercased() : ""
            let inverted = out.count >= 2 && [.auxiliary, .modal].contains(out[out.count - 2].pos)
            out.append(tagWord(word, lower, previous: prev, next: next, inverted: inverted))
        }
        return out
    }

    /// Tags one word from its form and its left context; `inverted` says an auxiliary or modal
    /// stands before the previous word (question order: "can we fix"), so a verb here is non-finite.
    static func tagWord(_ word: String, _ w: String, previous: TaggedToken?, next: String, inverted: Bool)
        -> TaggedToken
    {
        typealias L = EnglishLexicon
        func tok(_ pos: PartOfSpeech, _ lemma: String? = nil, _ tense: Tense? = nil) -> TaggedToken {
            TaggedToken(text: word, lemma: lemma ?? w, pos: pos, tense: tense)
        }
        if let f = w.unicodeScalars.first, !CharacterSet.alphanumerics.contains(f), w != "'s", !w.hasPrefix("'") {
            return tok(.punctuation)
        }
        if w.allSatisfy({ $0.isNumber || $0 == "." || $0 == "," }) { return tok(.number) }
        let prevPOS = previous?.pos
        let nominalContext =
            prevPOS == .determiner || prevPOS == .adjective
            || (previous.map { L.possessives.contains($0.lemma) } ?? false)
        let verbContext =
            previous?.lemma == "to" || prevPOS == .modal
            || (previous.map { L.subjectPronouns.contains($0.lemma) } ?? false)
        if w == "n't" { return tok(.adverb, "not") }
        if w == "'s",
            prevPOS == .noun
                || prevPOS == .pronoun && previous?.lemma != "it" && previous?.lemma != "he"
                    && previous?.lemma != "she"
        {
            return tok(.determiner, "'s")  // possessive
        }
        if L.futureModals.contains(w) { return tok(.modal, "will", .future) }
        if L.modals.contains(w) { return tok(.modal) }
        if let t = L.auxiliaries[w] { return tok(.auxiliary, L.auxiliaryLemma[w], t) }
        if L.whWords.contains(w) { return tok(.wh) }
        if L.possessives.contains(w) { return tok(.determiner) }
        if L.determiners.contains(w) { return tok(.determiner) }
        if L.pronouns.contains(w) { return tok(.pronoun) }
        if L.conjunctions.contains(w) { return tok(.conjunction) }
        if L.prepositions.contains(w), !(w == "like" && verbContext) { return tok(.preposition) }
        if L.adverbs.contains(w) { return tok(.adverb) }
        if L.adjectives.contains(w) { return tok(.adjective) }
        // Irregular inflected forms.
        if let base = L.irregularForms[w], base != w {
            let (past, participle) = L.irregular[base]!
            let afterHave = previous?.lemma == "have" || previous?.lemma == "be"
            if afterHave || (w == participle && w != past) { return tok(.verb, base) }
            return tok(.verb, base, .past)
        }
        if L.verbs.contains(w) {
            if nominalContext { return tok(.noun) }
            let finite = prevPOS != .modal && previous?.lemma != "to" && !inverted
            return tok(.verb, w, finite ? .present : nil)
        }
        if w.hasSuffix("s"), !w.hasSuffix("ss"), w.count > 3 {
            let stem = singular(w)
            if L.verbs.contains(stem) || L.irregular[stem] != nil {
                return nominalContext ? tok(.noun, stem) : tok(.verb, stem, .present)
            }
        }
        if w.hasSuffix("ly"), w.count > 4 { return tok(.adverb) }
        if w.hasSuffix("ing"), w.count >= 5 {
            return nominalContext ? tok(.noun) : tok(.verb, verbStem(String(w.dropLast(3))))
        }
        if w.hasSuffix("ed"), w.count > 4 {
            let base = verbStem(String(w.dropLast(2)))
            if nominalContext { return tok(.adjective) }
            let afterAux = previous?.pos == .auxiliary
            return tok(.verb, base, afterAux ? nil : .past)
        }
        if EnglishLexicon.adjectiveSuffixes.contains(where: { w.hasSuffix($0) && w.count > $0.count + 2 })
            && !EnglishLexicon.nounSuffixes.contains(where: { w.hasSuffix($0) })
        {
            return tok(.adjective)
        }
        if verbContext, previous?.lemma == "to" || prevPOS == .modal { return tok(.verb, w) }
        if let p = previous, EnglishLexicon.subjectPronouns.contains(p.lemma), p.pos == .pronoun {
            return tok(.verb, w, inverted ? nil : .present)
        }
        return tok(.noun, singular(w))
    }

    /// Plural noun / third-person verb → singular stem (`studies` → `study`, `boxes` → `box`).
    static func singular(_ w: String) -> String {
        if w.hasSuffix("ies"), w.count > 4 { return String(w.dropLast(3)) + "y" }
        if w.hasSuffix("sses") || w.hasSuffix("shes") || w.hasSuffix("ches") || w.hasSuffix("xes") {
            return String(w.dropLast(2))
        }
        if w.hasSuffix("s"), !w.hasSuffix("ss"), !w.hasSuffix("us"), !w.hasSuffix("is"), w.count > 3 {
            return String(w.dropLast())
        }
        return w
    }

    /// The base verb behind a stem left by removing `-ed`/`-ing` (`stopp` → `stop`, `lov` → `love`).
    static func verbStem(_ stem: String) -> String {
        if EnglishLexicon.verbs.contains(stem) { return stem }
        if EnglishLexicon.verbs.contains(stem + "e") { return stem + "e" }
        if let last = stem.last, stem.count > 2, stem.dropLast().last == last,
            EnglishLexicon.verbs.contains(String(stem.dropLast()))
        {
            return String(stem.dropLast())
        }
        if stem.hasSuffix("i"), EnglishLexicon.verbs.contains(String(stem.dropLast()) + "y") {
            return String(stem.dropLast()) + "y"
        }
        return stem
    }

    /// The tense profile of tagged text: past, present and future markers counted. `going to`
    /// followed by a base verb counts as future.
    public static func tenseCounts(_ tokens: [TaggedToken]) -> [Tense: Int] {
        var counts: [Tense: Int] = [:]
        for (i, t) in tokens.enumerated() {
            if t.lemma == "go", t.text.lowercased() == "going", i + 2 < tokens.count, tokens[i + 1].lemma == "to",
                tokens[i + 2].pos == .verb
            {
                counts[.future, default: 0] += 1
                continue
            }
            if let tense = t.tense { counts[tense, default: 0] += 1 }
        }
        return counts
    }
}
