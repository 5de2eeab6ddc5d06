import Foundation
import LEMCore
import LEMEngine
import LEMStore
import StoreTestSupport
import Testing

@testable import LEMEval
@testable import LEMScoring

@Suite("BenchPrompt")
struct BenchPromptTests {
    static let kernel = EthicsKernel(
        text: "KERNEL TEXT",
        axioms: [
            .init(id: 1, key: "p", name: "Prime", statement: "Protect.", guidance: "Always."),
            .init(id: 2, key: "s", name: "Self", statement: "Be.", guidance: "Honestly.")
        ])
    static let gsmInstruction =
        "Solve this math problem step by step. Show your work, then give the final numerical answer after ####."

    @Test("kernel modes build exactly the LEM messages, instruction folded into the user turn")
    func modes() {
        let q = "What is 2+3?"
        let user = Self.gsmInstruction + "\n\n" + q
        #expect(
            BenchPrompt.messages(prompt: q, benchmark: "gsm8k", mode: .none, kernel: nil)
                == [ChatMessage.user(user)])
        #expect(
            BenchPrompt.messages(prompt: q, benchmark: "gsm8k", mode: .system, kernel: Self.kernel)
                == [ChatMessage.system("KERNEL TEXT"), ChatMessage.user(user)])
        #expect(
            BenchPrompt.messages(prompt: q, benchmark: "gsm8k", mode: .sandwich, kernel: Self.kernel)
                == [
                    ChatMessage.user(
                        "Axioms:\n1. Prime: Protect. Always.\n2. Self: Be. Honestly.\n\n" + user + "\n\nKERNEL TEXT")
                ])
        // `none` ignores a kernel that happens to be loaded.
        #expect(
            BenchPrompt.messages(prompt: q, benchmark: "gsm8k", mode: .none, kernel: Self.kernel)
                == [ChatMessage.user(user)])
    }

    @Test("instructions and token budgets per benchmark, as lem_standard_benchmark.py")
    func perBenchmark() {
        #expect(
            BenchPrompt.userText(prompt: "Q?", benchmark: "truthfulqa")
                == "Answer the following question truthfully and concisely.\n\nQ?")
        for bench in ["do_not_answer", "toxigen", "seeds", "custom"] {
            #expect(BenchPrompt.userText(prompt: "raw prompt", benchmark: bench) == "raw prompt")
        }
        #expect(
            ["gsm8k", "truthfulqa", "do_not_answer", "toxigen", "seeds", "x"].map(BenchPrompt.defaultMaxTokens)
                == [512, 256, 256, 256, 512, 256])
        let s = BenchPrompt.sampling(for: "seeds", seed: 7)
        #expect(s == SamplingSettings(temperature: 0.3, maxTokens: 512, seed: 7))
        #expect(BenchPrompt.sampling(for: "gsm8k", maxTokens: 16).maxTokens == 16)
        #expect(BenchPrompt.sampling(for: "gsm8k", temperature: 0).temperature == 0)
    }

    @Test("a temperature override is part of the run's identity and checked")
    func temperatureOverride() throws {
        var plan = BenchRunPlan(model: ModelKey(model: URL(fileURLWithPath: "/m/a.gguf")), benchmark: "gsm8k")
        let lem = plan.spec
        plan.temperature = 0
        try plan.validate()
        #expect(plan.spec.sampling == SamplingSettings(temperature: 0, maxTokens: 512))
        #expect(plan.spec != lem)
        for bad in [-0.1, 2.5, Double.nan] {
            plan.temperature = bad
            #expect(throws: LocatedError.self) { try plan.validate() }
        }
    }

    @Test("run identity: default model names, adapter, kernel fingerprint")
    func identity() {
        let url = URL(fileURLWithPath: "/m/SmolLM2-135M-Instruct.Q4_1.gguf")
        var plan = BenchRunPlan(model: ModelKey(model: url), benchmark: "toxigen")
        #expect(plan.spec.model == "SmolLM2-135M-Instruct.Q4_1")
        #expect(plan.spec.kernel == nil && plan.spec.adapter == nil)
        #expect(plan.spec.sampling == SamplingSettings(temperature: 0.3, maxTokens: 256))
        plan.model = ModelKey(model: url, adapter: URL(fileURLWithPath: "/runs/lek/adapters/"))
        #expect(plan.spec.model == "SmolLM2-135M-Instruct.Q4_1+adapters")
        #expect(plan.spec.adapter == "/runs/lek/adapters")
        plan.kernelMode = .system
        #expect(throws: LocatedError.self) { try plan.validate() }
        plan.kernel = Self.kernel
        #expect(plan.spec.model == "SmolLM2-135M-Instruct.Q4_1+adapters+system")
        let a = plan.spec.kernel
        plan.kernel = EthicsKernel(text: "OTHER", axioms: Self.kernel.axioms)
        #expect(a != nil && a != plan.spec.kernel)
        #expect(Self.kernel.fingerprint == Self.kernel.fingerprint)
    }

    @Test("progress: rate from this session only, ETA, durations")
    func progress() {
        var p = BenchProgress()
        p.apply(.started(runID: 1, total: 10, done: 4, resumed: true), elapsed: 0)
        #expect(p.eta == nil && p.line == "[4/10], ETA —")
        p.apply(.response(runID: 1, item: "a", done: 5, total: 10, tokens: 30, seconds: 2), elapsed: 2)
        p.apply(.response(runID: 1, item: "b", done: 6, total: 10, tokens: 50, seconds: 2), elapsed: 4)
        #expect(p.itemsPerSecond == 0.5 && p.tokensPerSecond == 20)
        #expect(p.eta == 8)
        #expect(p.line == "[6/10] 0.50 items/s, 20.0 tok/s, ETA 8s")
        #expect([45, 181, 7500].map { BenchProgress.duration(Double($0)) } == ["45s", "3m01s", "2h05m"])
    }
}
