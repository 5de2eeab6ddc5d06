import Foundation
import LEMCore
import LEMEngine
import LEMScoring
import LEMStore
import StoreTestSupport
import TestSupport
import Testing

@testable import LEMEval

/// The engine side of training probes: prompts from files and the seeds folder, greedy answers
/// from base + adapter on the committed tiny Llama and its PEFT LoRA, scored by the LEK heuristic.
@Suite struct AnswerProbeTests {
    static let base = TestPaths.fixture("engine/llama3_tiny")
    static let adapter = TestPaths.fixture("adapters/llama3_lora_partial")

    func temp(_ name: String, _ text: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "lem-probe-\(UUID().uuidString)-\(name)")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test func promptFilesInThreeFormats() throws {
        let json = try ProbePrompt.load(file: temp("p.json", #"[{"id": "A1", "domain": "d", "prompt": "one"}, "two"]"#))
        #expect(json == [ProbePrompt(id: "A1", domain: "d", prompt: "one"), ProbePrompt(id: "#2", prompt: "two")])
        let jsonl = try ProbePrompt.load(
            file: temp("p.jsonl", "{\"prompt\": \"x\", \"id\": \"Q\"}\n\n{\"prompt\": \"y\"}\n"))
        #expect(jsonl == [ProbePrompt(id: "Q", prompt: "x"), ProbePrompt(id: "#3", prompt: "y")])
        let text = try ProbePrompt.load(file: temp("p.txt", "What is honesty?\n  \nWrite a poem.\n"))
        #expect(text.map(\.prompt) == ["What is honesty?", "Write a poem."])
        let bad = try temp("bad.jsonl", "{\"prompt\": \"x\"}\n{\"text\": 3}\n")
        #expect(
            throws: LocatedError(
                bad.path + ":2",
                "expected a prompt string, an object with a string field `prompt`, or a chat line (`messages`)")
        ) {
            try ProbePrompt.load(file: bad)
        }
        #expect(throws: LocatedError.self) { try ProbePrompt.load(file: temp("empty.txt", "\n")) }
    }

    @Test func seedsAreSpreadAcrossDomains() throws {
        let seeds = TestPaths.repoRoot.appendingPathComponent("seeds")
        let five = try ProbePrompt.seeds(directory: seeds, count: 5)
        #expect(five.count == 5)
        #expect(Set(five.compactMap(\.domain)).count == 5, "domains: \(five.map { $0.domain ?? "-" })")
        #expect(five.first?.id == "P01")
        // More prompts than domains: a second round, still no repeats.
        let many = try ProbePrompt.seeds(directory: seeds, count: 15)
        #expect(many.count == 15 && Set(many.map(\.id)).count == 15)
    }

    @Test func answersAreTheEnginesGreedyRepliesScoredByTheHeuristic() async throws {
        let prompts = [
            ProbePrompt(id: "P1", prompt: "Tell me about honesty."), ProbePrompt(id: "P2", prompt: "Write a haiku.")
        ]
        let probe = AnswerProbe(model: Self.base, prompts: prompts, maxTokens: 6)
        for adapter in [nil, Self.adapter] {
            let (answers, cancelled) = try probe.run(adapterFolder: adapter)
            #expect(!cancelled && answers.map(\.prompt) == prompts)
            // The same model answering through the async chat path gives the same greedy text.
            let reference = try LoadedModel.load(ModelKey(model: Self.base, adapter: adapter))
            for a in answers {
                let reply = try await reference.reply(
                    to: [ChatMessage.user(a.prompt.prompt)], sampling: SamplingSettings(maxTokens: 6))
                #expect(
                    a.text == reply.text && a.tokens == reply.tokens,
                    "\(a.prompt.id) with adapter \(adapter?.lastPathComponent ?? "none")")
                let lek = LEKHeuristic().score(ScoringInput(prompt: a.prompt.prompt, response: a.text))
                #expect(a.score == lek.first { $0.dimension == "lek_score" }?.value)
            }
        }
    }

    @Test func aStopRequestEndsTheProbeWithoutAHalfAnswer() throws {
        let probe = AnswerProbe(model: Self.base, prompts: [ProbePrompt(id: "P1", prompt: "Hi")], maxTokens: 50)
        let (answers, cancelled) = try probe.run(adapterFolder: nil, isCancelled: { true })
        #expect(cancelled && answers.isEmpty)
    }
}
