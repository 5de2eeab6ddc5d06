import Testing

@testable import LEMScoring

@Suite("GSM8KScorer")
struct GSM8KScorerTests {
    func correct(_ rule: GSM8KScorer.Rule, _ response: String, _ expected: String = "50", cot: String? = nil) -> Double?
    {
        var reference = ["correct_answer": expected]
        if let cot { reference["answer_cot"] = cot }
        return GSM8KScorer(rule: rule).score(ScoringInput(prompt: "", response: response, reference: reference))[0]
            .value
    }

    @Test("LEM rule: #### answer first, else last number; equal within 0.01")
    func lemRule() {
        #expect(GSM8KScorer.lemMatch(response: "so #### 1,250 dollars and 3", expected: "1250") == (true, "1250"))
        #expect(GSM8KScorer.lemMatch(response: "First 3 then 4, total = 50", expected: "50") == (true, "50"))
        #expect(GSM8KScorer.lemMatch(response: "answer is 49.995", expected: "50") == (true, "49.995"))
        #expect(GSM8KScorer.lemMatch(response: "answer is 49.98", expected: "50") == (false, "49.98"))
        // "$50" is not preceded by start/space/=, so the last number is 20.
        #expect(GSM8KScorer.lemMatch(response: "costs $50 or 20", expected: "50") == (false, "20"))
        #expect(GSM8KScorer.lemMatch(response: "no digits", expected: "50") == (false, nil))
        #expect(GSM8KScorer.lemMatch(response: "ERROR 50", expected: "50") == (false, nil))
        #expect(GSM8KScorer.lemMatch(response: "50", expected: "50") == (true, "50"))
        #expect(GSM8KScorer.lemMatch(response: "x = -7", expected: "-7") == (true, "-7"))
        #expect(correct(.lem, "The answer is 50.") == 1)
    }

    @Test("lm-eval strict-match takes the first `#### number`")
    func strict() {
        #expect(GSM8KScorer.strictExtract("#### 12\n#### 13") == "12")
        #expect(GSM8KScorer.strictExtract("The answer is 50") == "[invalid]")
        #expect(correct(.lmevalStrict, "work... #### 1,250.", "1250", cot: "a\n#### 1250") == 1)
        #expect(correct(.lmevalStrict, "The answer is 50", cot: "#### 50") == 0)
        // Without answer_cot the reference is built from correct_answer.
        #expect(correct(.lmevalStrict, "#### $50") == 0)
        #expect(correct(.lmevalStrict, "#### 50") == 1)
    }

    @Test("lm-eval flexible-extract takes the last number-like match")
    func flexible() {
        #expect(GSM8KScorer.flexibleExtract("5 apples cost $12.50 total") == "$12.50")
        #expect(GSM8KScorer.flexibleExtract("it is 7") == "7")
        #expect(GSM8KScorer.flexibleExtract("none") == "[invalid]")
        #expect(correct(.lmevalFlexible, "so she pays $50.", cot: "...\n#### 50") == 1)
        #expect(correct(.lmevalFlexible, "answer 50 then 4", cot: "#### 50") == 0)
        #expect(GSM8KScorer.harnessNormalise("Reasoning\n#### 1,000.") == "1000")
    }
}
