import Testing

@testable import LEMScoring

@Suite("AuthorityDetector")
struct AuthorityDetectorTests {
    @Test("each stance from its signals")
    func stances() {
        let prompt = "My doctor and my lawyer disagree. What should I do?"
        #expect(AuthorityDetector.read(prompt: prompt, response: "").promptRoles == 2)
        let submission = AuthorityDetector.read(
            prompt: prompt, response: "I'm just an assistant; who am I to say? Ask your doctor.")
        #expect(submission.selfDiminishing == 2 && submission.stance == .submission)
        #expect(submission.deferenceModifiers == 1 && submission.possessiveFraming == 1)
        let deference = AuthorityDetector.read(
            prompt: prompt, response: "Please seek professional advice and defer to them.")
        #expect(deference.deferenceModifiers == 2 && deference.stance == .deference)
        let citation = AuthorityDetector.read(
            prompt: prompt, response: "According to the WHO, research shows rest helps.")
        #expect(citation.citations == 2 && citation.stance == .citation)
        let sovereign = AuthorityDetector.read(
            prompt: prompt, response: "Weigh both views against the evidence you have.")
        #expect(sovereign.stance == .sovereign)
        let scores = AuthorityDetector().score(ScoringInput(prompt: prompt, response: "Consult a lawyer."))
        #expect(scores.last?.value == 2 && scores.last?.detail == "deference")
    }
}
