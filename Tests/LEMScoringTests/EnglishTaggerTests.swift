import Testing

@testable import LEMScoring

@Suite("EnglishTagger")
struct EnglishTaggerTests {
    func tags(_ s: String) -> [String] {
        EnglishTagger.tag(s).map { "\($0.lemma)/\($0.pos.rawValue)" + ($0.tense.map { "/\($0.rawValue)" } ?? "") }
    }

    @Test("tokenizes contractions and punctuation")
    func tokens() {
        #expect(
            EnglishTagger.tokenize("I don't know, it's fine!") == [
                "I", "do", "n't", "know", ",", "it", "'s", "fine", "!"
            ])
        #expect(EnglishTagger.tokenize("I can't won't") == ["I", "can", "n't", "will", "n't"])
    }

    @Test("tags closed classes, verbs by tense, nouns by context")
    func tagging() {
        #expect(
            tags("She went to the market.") == [
                "she/pronoun", "go/verb/past", "to/preposition", "the/determiner",
                "market/noun", "./punctuation"
            ])
        #expect(
            tags("We will build two bridges") == [
                "we/pronoun", "will/modal/future", "build/verb", "two/noun", "bridge/noun"
            ])
        #expect(tags("He walks quickly") == ["he/pronoun", "walk/verb/present", "quickly/adverb"])
        #expect(tags("The need is real") == ["the/determiner", "need/noun", "be/auxiliary/present", "real/adjective"])
        #expect(tags("They stopped") == ["they/pronoun", "stop/verb/past"])
    }

    @Test("tense counts include going-to futures")
    func tense() {
        let c = EnglishTagger.tenseCounts(EnglishTagger.tag("I was sure. I am going to leave. It is."))
        #expect(c[.past] == 1 && c[.present] == 2 && c[.future] == 1)
    }
}
