import Testing

@testable import LEMScoring

@Suite("PairwisePrompt")
struct PairwisePromptTests {
    @Test("verdicts in the forms judges write; anything else is no verdict")
    func verdicts() {
        let cases: [(String, PairVerdict?)] = [
            ("A", .first), ("b", .second), ("Tie", .tie), ("**A**", .first), ("Answer B.", .second),
            ("B is better", .second), ("neither", .tie), ("My analysis…\n[[B]]", .second), ("[[C]]", .tie),
            ("Both are fine but\nVerdict: A", .first), ("Final answer - tie", .tie),
            ("A\nBecause it is kinder.", .first), ("Answer A is wordy.\nB", .second),
            ("", nil), ("A good answer is hard to find.", nil), ("[[A]] or maybe [[B]]", nil),
            ("I prefer the second one.", nil)
        ]
        for (reply, expected) in cases {
            let got = try? PairwisePrompt.verdict(in: reply).get()
            #expect(got == expected, "\(reply)")
        }
        if case .failure(let e) = PairwisePrompt.verdict(in: "  ") { #expect(e.message == "empty reply") }
    }

    @Test("render fills each placeholder once; an answer holding a placeholder is not expanded")
    func render() {
        let p = PairwisePrompt.standard
        let text = p.render(question: "Q?", first: "I say {answer_b}", second: "second")
        #expect(text.contains("[Answer A]\nI say {answer_b}\n\n[Answer B]\nsecond"))
        #expect(text.contains("[Question]\nQ?\n"))
        if case .failure(let e) = PairwisePrompt.custom("{question} {answer_a}") {
            #expect(e.message == "prompt lacks {answer_b} (it needs all of {question}, {answer_a}, {answer_b})")
        } else {
            Issue.record("a template without {answer_b} was accepted")
        }
        let custom = try? PairwisePrompt.custom("{answer_b}|{answer_a}|{question}|{other}").get()
        #expect(custom?.render(question: "q", first: "1", second: "2") == "2|1|q|{other}")
    }
}
