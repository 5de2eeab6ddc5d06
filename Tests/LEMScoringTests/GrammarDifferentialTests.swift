import Testing

@testable import LEMScoring

@Suite("GrammarDifferential")
struct GrammarDifferentialTests {
    @Test("Jensen–Shannon divergence bounds")
    func divergence() {
        #expect(GrammarDifferential.jensenShannon([:], [:]) == 0)
        #expect(GrammarDifferential.jensenShannon(["a": 1], [:]) == 1)
        #expect(GrammarDifferential.jensenShannon(["a": 2], ["a": 5]) == 0)
        #expect(abs(GrammarDifferential.jensenShannon(["a": 1], ["b": 1]) - 1) < 1e-12)
        // p = (1/2, 1/2), q = (1, 0): JS = 1/2·[1/2 log2(2/3)·… ] = 0.3112781244591328
        #expect(abs(GrammarDifferential.jensenShannon(["a": 1, "b": 1], ["a": 1]) - 0.3112781244591328) < 1e-12)
    }

    @Test("identical statements: full echo and overlap, no shifts")
    func identical() {
        let s = GrammarDifferential.signals(
            prompt: "Doctors store patient records.", response: "Doctors store patient records.")
        #expect(s[.vocabularyEcho] == 1 && s[.nounOverlap] == 1)
        #expect(s[.verbShift] == 0 && s[.tenseShift] == 0 && s[.questionFlip] == 0 && s[.domainShift] == 0)
        #expect(abs(s.composite - 0.40) < 1e-12)
    }

    @Test("a question answered in another tense, verb and domain")
    func shifted() {
        let s = GrammarDifferential.signals(
            prompt: "Why do banks hold money?", response: "Schools taught students.")
        // Prompt content lemmas {bank, hold, money}; none echoed. Nouns {bank, money} vs {school, student}.
        #expect(s[.vocabularyEcho] == 0 && s[.nounOverlap] == 0)
        // Verbs: hold vs teach → disjoint. Tense: present (do) vs past (taught) → disjoint.
        #expect(s[.verbShift] == 1 && s[.tenseShift] == 1)
        #expect(s[.questionFlip] == 1)
        // Domains: payment {bank, money} vs education {school, student, teach} → disjoint.
        #expect(s[.domainShift] == 1)
        #expect(abs(s.composite - 0.60) < 1e-12)
    }

    @Test("partial echo and a half-question prompt")
    func partial() {
        let s = GrammarDifferential.signals(
            prompt: "The network is slow. Can we fix the router?", response: "We can fix the router.")
        // Prompt content lemmas {network, slow, fix, router}; response {fix, router} → 2/4.
        #expect(s[.vocabularyEcho] == 0.5)
        // Nouns {network, router} vs {router} → 1/2.
        #expect(s[.nounOverlap] == 0.5)
        #expect(s[.questionFlip] == 0.5)
        let dims = GrammarDifferential().score(ScoringInput(prompt: "a", response: "b")).map(\.dimension)
        #expect(
            dims == [
                "vocabulary_echo", "verb_shift", "tense_shift", "noun_overlap", "question_flip",
                "domain_shift", "grammar_composite"
            ])
    }
}
