import LEMCore

@testable import Panels

/// Deterministic view models for panel tests.
enum PanelFixtures {
    static func chat() -> ChatViewModel {
        var m = ChatViewModel(model: "smollm2-135m", adapter: "lora-r8")
        m.systemPrompt = "Be brief."
        m.beginTurn(prompt: "What is LoRA? 漢字?")
        m.appendToken(
            "# LoRA\nA **low-rank** adapter:\n- trains `A` and `B`\n- keeps W frozen\n```\ny = Wx + BAx\n```\nDone 👍")
        m.finishTurn(
            stats: TurnStats(
                promptTokens: 12, generatedTokens: 40, promptTokensPerSecond: 512, generationTokensPerSecond: 41.5))
        m.beginTurn(prompt: "And QLoRA?")
        m.appendToken("It quantizes the base")
        return m
    }

    static func train() -> TrainViewModel {
        var m = TrainViewModel(runName: "run-1")
        var events: [TrainingEvent] = [.started(step: 0, totalSteps: 200)]
        for s in 1...100 {
            events.append(
                .trainReport(
                    .init(
                        step: s, loss: 3.0 - Double(s) * 0.015 + (s % 7 == 0 ? 0.2 : 0),
                        lr: 1e-4 * Double(min(s, 20)) / 20,
                        tokensPerSec: 1234, trainedTokens: s * 256, peakMemMB: 1.5 * 1024, elapsed: Double(s) * 0.5)))
            if s % 25 == 0 {
                events.append(
                    .validation(step: s, valLoss: 3.1 - Double(s) * 0.01 + (s == 100 ? 0.3 : 0), valTime: nil))
            }
        }
        events.append(.saved(step: 100, path: "adapters/100.safetensors"))
        m.apply(events)
        return m
    }

    static func bench() -> BenchViewModel {
        let prompts = (0..<6).map { (i: Int) -> BenchPromptResult in
            let base: Double = 0.5 + Double(i) * 0.05
            let tuned: Double = 0.6 + Double(i % 3) * 0.1
            return BenchPromptResult(
                id: "p\(i)", benchmark: i % 2 == 0 ? "ethics" : "safety", prompt: "Prompt number \(i) about honesty",
                answers: ["base answer \(i) is honest", "tuned answer \(i) is very honest"],
                scores: [base, tuned],
                reasoning: ["ok", "better"], highlights: [["honest"], ["very honest"]])
        }
        return BenchViewModel(runs: ["base", "tuned"], prompts: prompts)
    }

    static func attention() -> AttentionViewModel {
        let tokens = ["<s>", "The", " cat", " 漢", " sat", "."]
        let t = tokens.count
        var w = [Float](repeating: 0, count: t * t)
        for q in 0..<t { for k in 0...q { w[q * t + k] = 1 / Float(q + 1) } }
        return AttentionViewModel(
            layers: 3, heads: 4, statistic: "entropy", statistics: ["entropy", "max"],
            stats: (0..<12).map { Float($0) / 11 }, tokens: tokens, layer: 1, head: 2, weights: w)
    }
}

/// Renders a panel into a fresh buffer.
func renderPanel(_ p: some Panel, width: Int, height: Int, focused: Bool = true) -> ScreenBuffer {
    var b = ScreenBuffer(width: width, height: height)
    p.render(into: &b, area: b.bounds, focused: focused)
    return b
}

/// Sends keys to a panel, collecting intents.
func press<P: Panel>(_ panel: inout P, _ keys: [KeyEvent], area: Rect = Rect(x: 0, y: 0, width: 100, height: 30)) -> (
    results: [EventResult], intents: [WorkbenchIntent]
) {
    var intents: [WorkbenchIntent] = []
    var results: [EventResult] = []
    for k in keys { results.append(panel.handle(.key(k), area: area, keys: .builtin) { intents.append($0) }) }
    return (results, intents)
}
