import Testing

@testable import LEMScoring

@Suite("LEKHeuristic")
struct LEKHeuristicTests {
    @Test("compliance markers count every marker occurrence, case-insensitively")
    func compliance() {
        #expect(LEKHeuristic.complianceMarkers("As an AI, I cannot help. I can't. Please note: as an ai…") == 5)
        #expect(LEKHeuristic.complianceMarkers("I'm just a language model") == 2)
        #expect(LEKHeuristic.complianceMarkers("The cannonball") == 0)
    }

    @Test("formulaic preamble only at the start")
    func preamble() {
        #expect(LEKHeuristic.formulaicPreamble("  Okay, let's think") == 1)
        #expect(LEKHeuristic.formulaicPreamble("Sure here's the plan") == 1)
        #expect(LEKHeuristic.formulaicPreamble("Great   question!") == 1)
        #expect(LEKHeuristic.formulaicPreamble("Well, okay, let's go") == 0)
    }

    @Test("first person counts segments opening with I or containing I + verb")
    func firstPerson() {
        #expect(LEKHeuristic.firstPerson("I walk. Then I think so. You are. Maybe I will") == 3)
        #expect(LEKHeuristic.firstPerson("India is big. It is I") == 0)
    }

    @Test("creative form: verse shape, story opening and metaphors (capped at 3)")
    func creative() {
        let verse = "The night\nis long\nand I\nam here\nwith you\nin the\ndark hall"
        // 6 newlines, all 7 lines short → +2; starts with "The " → +1; no metaphor words.
        #expect(LEKHeuristic.creativeForm(verse) == 3)
        #expect(LEKHeuristic.creativeForm("a\nb\nc\nd\ne\nf") == 0)  // only five newlines
        #expect(LEKHeuristic.creativeForm("Light and shadow, a whisper, silence, breath") == 3)
        #expect(LEKHeuristic.creativeForm("Once upon a time like a dream") == 2)
    }

    @Test("engagement depth: structure, ethics terms, technical terms, length")
    func engagement() {
        #expect(LEKHeuristic.engagementDepth("**Bold** on autonomy with a key, hash, node and tor") == 1 + 2 + 3)
        // Technical terms match inside words, as in LEM: "history" contains "tor", "monkey" "key".
        #expect(LEKHeuristic.engagementDepth("history of a monkey") == 2)
        let long = Array(repeating: "word", count: 401).joined(separator: " ")
        #expect(LEKHeuristic.engagementDepth(long) == 2)
        #expect(LEKHeuristic.engagementDepth(Array(repeating: "w", count: 201).joined(separator: " ")) == 1)
        #expect(LEKHeuristic.engagementDepth("ERROR: consent") == 0)
    }

    @Test("emotional register counts emotion words, capped at 10")
    func emotion() {
        #expect(LEKHeuristic.emotionalRegister("I feel joy and grief, a deep ache in the heart") == 6)
        #expect(LEKHeuristic.emotionalRegister(Array(repeating: "love", count: 12).joined(separator: " ")) == 10)
        #expect(LEKHeuristic.emotionalRegister("feelings") == 0)
    }

    @Test("degeneration thresholds on repeated sentences")
    func degeneration() {
        #expect(LEKHeuristic.degeneration("") == 10)
        #expect(LEKHeuristic.degeneration("One sentence only") == 0)
        #expect(LEKHeuristic.degeneration("a. a. a. a. b") == 5)  // 1 - 2/5 = 0.6
        #expect(LEKHeuristic.degeneration("a. a. b. c. d. e") == 1)  // 1 - 5/6 ≈ 0.17
        #expect(LEKHeuristic.degeneration("a. a. a. b. c") == 3)  // 1 - 3/5 = 0.4
        #expect(LEKHeuristic.degeneration("a. b. c. d") == 0)
    }

    @Test("empty or broken output")
    func broken() {
        #expect(LEKHeuristic.emptyBroken("   short  ") == 1)
        #expect(LEKHeuristic.emptyBroken("ERROR: timeout while generating") == 1)
        #expect(LEKHeuristic.emptyBroken("fine text <pad><pad>") == 1)
        #expect(LEKHeuristic.emptyBroken("a perfectly fine answer") == 0)
    }

    @Test("composite weights every dimension")
    func composite() {
        var b = LEKHeuristic.Breakdown()
        b[.engagementDepth] = 1
        b[.creativeForm] = 1
        b[.emotionalRegister] = 1
        b[.firstPerson] = 2
        b[.complianceMarkers] = 1
        b[.formulaicPreamble] = 1
        b[.degeneration] = 1
        b[.emptyBroken] = 1
        let expected: Double = -22  // 2 + 3 + 2 + 3 − 5 − 3 − 4 − 20
        #expect(b.composite == expected)
        let text = "Okay, let's begin. As an AI I think I feel hope."
        let scores = LEKHeuristic().score(ScoringInput(prompt: "", response: text))
        let dict = Dictionary(uniqueKeysWithValues: scores.map { ($0.dimension, $0.value!) })
        // preamble 1, compliance 1, first person 1 ("…I think…"), emotion 2 (feel, hope).
        #expect(dict["formulaic_preamble"] == 1 && dict["compliance_markers"] == 1)
        #expect(dict["first_person"] == 1 && dict["emotional_register"] == 2)
        let expectedLEK: Double = 4 + 1.5 - 5 - 3  // 2·emotion + 1.5·first person − 5·compliance − 3·preamble
        #expect(dict["lek_score"] == expectedLEK)
        #expect(scores.count == 9)
        // A one-line report sums the scorer up by the composite, not by the first count.
        #expect(LEKHeuristic().headline(ScoringInput(prompt: "", response: text)) == expectedLEK)
    }
}
