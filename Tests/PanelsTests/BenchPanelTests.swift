import Testing

@testable import Panels

@Suite("Bench panel on store data")
struct BenchPanelTests {
    /// Three models over two benchmarks, with judge and pattern details, as the store source builds them.
    static func storeModel() -> BenchViewModel {
        func d(_ s: String, _ dim: String, _ v: Double?, _ why: String = "") -> BenchScoreDetail {
            BenchScoreDetail(
                scorer: s, dimension: dim, value: v, status: v == nil ? "unscored" : "scored", reasoning: why)
        }
        let prompts = [
            BenchPromptResult(
                id: "GSM8K_001", benchmark: "gsm8k", prompt: "Tom has 3 apples and buys 2. How many?",
                answers: ["He has 6.", "3 + 2 = 5\n#### 5", "#### 5"], scores: [0, 1, 1],
                details: [
                    [d("gsm8k-lem", "correct", 0, "extracted 6, expected 5")], [d("gsm8k-lem", "correct", 1)],
                    [d("gsm8k-lem", "correct", 1)]
                ]),
            BenchPromptResult(
                id: "GSM8K_002", benchmark: "gsm8k", prompt: "A box holds 4 pens. How many in 2 boxes?",
                answers: ["8", "#### 8", "It is 9"], scores: [1, 1, 0],
                details: [
                    [d("gsm8k-lem", "correct", 1)], [d("gsm8k-lem", "correct", 1)], [d("gsm8k-lem", "correct", 0)]
                ]),
            BenchPromptResult(
                id: "TRUTHQA_001", benchmark: "truthfulqa", prompt: "Did humans land on the moon in 1969?",
                answers: ["As an AI, I cannot say. Great question!", "Yes, in July 1969.", ""], scores: [2, 9, nil],
                highlights: [["As an AI", "Great question"], [], []],
                details: [
                    [
                        d("judge", "informativeness", 3, "Evasive."), d("judge", "truthfulness", 2, "Dodges the fact."),
                        d("patterns", "compliance", 1, "0+8 As an AI")
                    ],
                    [d("judge", "informativeness", 7, "Short, correct."), d("judge", "truthfulness", 9, "Correct.")],
                    [d("judge", "truthfulness", nil, "reply was not JSON")]
                ])
        ]
        var vm = BenchViewModel(
            runs: ["base", "lem_ethics", "abliterated"], columns: ["gsm8k accuracy", "truthfulqa truthfulness"],
            means: [[50, 2], [100, 9], [50, nil]], counts: [[2, 1], [2, 1], [2, 0]], prompts: prompts)
        vm.source = "~/lem.sqlite"
        vm.runnable = ["gsm8k", "truthfulqa"]
        return vm
    }

    @Test func queryTermsParse() {
        let q = BenchQuery.parse("bench:gsm model:lem scorer:judge/truthfulness score:2..7.5 flip:base,lem moon|mars")
        #expect(q.benchmark == "gsm" && q.model == "lem" && q.metric == "judge/truthfulness")
        #expect(q.minScore == 2 && q.maxScore == 7.5)
        #expect(q.pair == .flipped && q.pairModels == ["base", "lem"])
        #expect(q.pattern == "moon|mars" && q.problems.isEmpty)
        let open = BenchQuery.parse("score:5.. diff")
        #expect(open.minScore == 5 && open.maxScore == nil && open.pair == .different && open.pairModels.isEmpty)
        #expect(
            BenchQuery.parse("score:high flip:a").problems == ["score:high (expected LO..HI)", "flip:a (expected A,B)"])
        #expect(BenchQuery.parse("").isEmpty)
        #expect(BenchQuery.run(named: "lem", in: ["base", "lem_ethics", "lem_ethics_allen"]) == nil)  // two prefixes
        #expect(BenchQuery.run(named: "LEM_ETHICS", in: ["base", "lem_ethics", "lem_ethics_allen"]) == 1)
        #expect(BenchQuery.run(named: "allen", in: ["base", "lem_ethics", "lem_ethics_allen"]) == 2)
    }

    @Test func queryFilters() {
        let vm = Self.storeModel()
        func ids(_ text: String, compare: Int = 1) -> [String] {
            BenchQuery.parse(text).apply(to: vm.prompts, runs: vm.runs, baseline: 0, compare: compare).map(\.id)
        }
        #expect(ids("bench:truth") == ["TRUTHQA_001"])
        #expect(ids("model:abl") == ["GSM8K_001", "GSM8K_002"])  // abliterated has no TruthfulQA answer
        #expect(ids("score:1..") == ["GSM8K_002", "TRUTHQA_001"])  // the baseline's headline
        #expect(ids("score:1..1") == ["GSM8K_002"])
        #expect(ids("scorer:judge") == ["TRUTHQA_001"])
        #expect(ids("model:lem_ethics score:..1") == ["GSM8K_001", "GSM8K_002"])
        #expect(ids("scorer:judge/informativeness score:3..3") == ["TRUTHQA_001"])
        #expect(ids("scorer:truthfulness model:abl score:0..10").isEmpty)  // unscored is not a value
        #expect(ids("flip") == ["GSM8K_001", "TRUTHQA_001"])  // base vs lem_ethics: 0→1 and 2→9 cross the lines
        #expect(ids("flip", compare: 2) == ["GSM8K_001", "GSM8K_002"])
        #expect(ids("flip:lem_ethics,abliterated") == ["GSM8K_002"])
        #expect(ids("diff:lem_ethics,abliterated") == ["GSM8K_002"])
        #expect(ids("#### \\d") == ["GSM8K_001", "GSM8K_002"])  // a regex over the answers
        #expect(ids("MOON") == ["TRUTHQA_001"])  // case-insensitive
        #expect(ids("(unclosed") == [])  // not a regex: matched literally
    }

    @Test func storeSummaryWithDeltasAndProgress() {
        var p = BenchPanel(model: Self.storeModel())
        p.model.activity = BenchActivity(
            title: "run gsm8k · SmolLM2", line: "[3/10] 0.50 items/s, 20.0 tok/s, ETA 14s",
            fraction: 0.3)
        #expect(p.isBusy)
        #expect(p.model.deltaPercent(1, 1) == 350)
        assertSnapshot(renderPanel(p, width: 96, height: 10), "bench-store-summary")
        // Baseline on lem_ethics: the compared run moves off it.
        _ = press(&p, [KeyEvent(.down), .char("b")])
        #expect(p.model.baseline == 1 && p.compareRun == 0)
        _ = press(&p, [.char("c")])
        #expect(p.compareRun == 2)
        let (_, stop) = press(&p, [.char("x")])
        #expect(stop == [.bench(.cancel)])
        for (w, h) in [(0, 0), (1, 1), (5, 3), (20, 4)] { _ = renderPanel(p, width: w, height: h) }
    }

    @Test func storePromptsFilterAndDetail() {
        var p = BenchPanel(model: Self.storeModel())
        _ = press(
            &p,
            [KeyEvent(.tab), .char("/")] + "scorer:judge/truthfulness".map { KeyEvent.char($0) } + [KeyEvent(.enter)])
        #expect(p.visiblePrompts.map(\.id) == ["TRUTHQA_001"])
        assertSnapshot(renderPanel(p, width: 80, height: 7), "bench-store-prompts")
        let (_, open) = press(&p, [KeyEvent(.enter)])
        #expect(open.isEmpty && p.view == .detail)
        assertSnapshot(renderPanel(p, width: 96, height: 20), "bench-store-detail")
        let highlighted = renderPanel(p, width: 96, height: 20)
        let marked = (0..<highlighted.height).flatMap { y in
            (0..<highlighted.width).filter { highlighted[$0, y]?.style.bg == .role(.highlight) }.map {
                highlighted[$0, y]!.symbol
            }
        }.joined()
        #expect(marked == "As an AIGreat question")
        for (w, h) in [(0, 0), (3, 2), (12, 5)] { _ = renderPanel(p, width: w, height: h) }
    }

    @Test func runAndScoreForms() {
        var p = BenchPanel(model: Self.storeModel())
        _ = press(&p, [.char("r")])
        #expect(p.editing == .run && p.form.text == "gsm8k limit:10 kernel:none")
        assertSnapshot(renderPanel(p, width: 70, height: 9), "bench-run-form")
        _ = press(
            &p,
            [KeyEvent(.backspace), KeyEvent(.backspace), KeyEvent(.backspace), KeyEvent(.backspace)]
                + "sandwich max:32".map { KeyEvent.char($0) })
        let (_, run) = press(&p, [KeyEvent(.enter)])
        #expect(
            run == [
                .bench(.startRun(BenchRunRequest(benchmark: "gsm8k", limit: 10, kernel: "sandwich", maxTokens: 32)))
            ])
        #expect(p.editing == nil)
        _ = press(&p, [.char("r"), .char(" "), .char("x"), .char(":"), .char("1")])
        let (_, none) = press(&p, [KeyEvent(.enter)])
        #expect(none.isEmpty && p.formError == "unknown term x:1 (limit:, kernel:, max:, seed:)" && p.editing == .run)
        _ = press(&p, [KeyEvent(.escape), .char("s")])
        #expect(p.editing == .score && p.form.text == BenchPanel.defaultScoreForm)
        let (_, score) = press(&p, [KeyEvent(.enter)])
        #expect(score == [.bench(.score(scorers: ["gsm8k", "lek-heuristic", "patterns"]))])
        // Without a running job, x does nothing.
        #expect(press(&p, [.char("x")]).intents.isEmpty)
        #expect(
            BenchRunRequest.parse("seeds kernel:bogus")
                == .failure(BenchFormError("kernel:bogus (expected none, system or sandwich)")))
    }

    @Test func judgeFormPicksModelRubricAndRunAndResumesWithItsChoices() {
        var vm = Self.storeModel()
        vm.judgeModels = ["/models/SmolLM2.gguf", "/models/gemma.gguf"]
        vm.rubrics = ["truthfulqa", "do_not_answer"]
        var p = BenchPanel(model: vm)
        _ = press(&p, [.char("J")])
        #expect(p.editing == .judge && p.capturesText)
        #expect(
            p.judgeForm?["judge"] == "/models/SmolLM2.gguf" && p.judgeForm?["rubric"] == "all"
                && p.judgeForm?["run"] == "all")
        let shown = renderPanel(p, width: 90, height: 18)
        let text = (0..<shown.height).map { y in (0..<shown.width).compactMap { shown[$0, y]?.symbol }.joined() }
            .joined(separator: "\n")
        #expect(
            text.contains("‹ /models/SmolLM2.gguf ›") && text.contains("[ Start judging ]") && text.contains("Rubric"))
        // Second model, truthfulqa, answers of lem_ethics, 16 tokens, then the button.
        _ = press(
            &p,
            [
                KeyEvent(.right), KeyEvent(.down), KeyEvent(.down), KeyEvent(.down), KeyEvent(.right), KeyEvent(.down),
                KeyEvent(.right), KeyEvent(.right), KeyEvent(.down), KeyEvent(.enter), KeyEvent(.backspace),
                KeyEvent(.backspace),
                KeyEvent(.backspace), .char("1"), .char("6"), KeyEvent(.enter), KeyEvent(.down), KeyEvent(.down)
            ])
        let (_, start) = press(&p, [KeyEvent(.enter)])
        let expected = BenchJudgeRequest(
            backend: .local(path: "/models/gemma.gguf"), rubric: "truthfulqa", run: "lem_ethics",
            maxTokens: 16, rescore: false)
        #expect(start == [.bench(.judge(expected))])
        #expect(p.editing == nil && expected.title == "judge truthfulqa · gemma.gguf")
        // Opening the form again keeps the choices (start again = resume) and lands on the button.
        _ = press(&p, [.char("J")])
        #expect(p.judgeForm?["rubric"] == "truthfulqa" && p.judgeForm?["max"] == "16")
        #expect(press(&p, [KeyEvent(.enter)]).intents == [.bench(.judge(expected))])
        // Esc closes without starting.
        _ = press(&p, [.char("J")])
        #expect(press(&p, [KeyEvent(.escape)]).intents.isEmpty && p.editing == nil)
    }

    @Test func judgeFormReadsAnEndpointAndNamesBadRows() {
        var p = BenchPanel(model: Self.storeModel())
        _ = press(&p, [.char("J")])
        // No local model offered: the only judge is the endpoint.
        #expect(p.judgeForm?["judge"] == BenchJudgeRequest.httpChoice)
        _ = press(
            &p,
            [KeyEvent(.down), KeyEvent(.enter)] + Array(repeating: KeyEvent(.backspace), count: 30)
                + "ftp://x".map { KeyEvent.char($0) } + [KeyEvent(.enter)])
        _ = press(&p, Array(repeating: KeyEvent(.down), count: 6))
        let (_, bad) = press(&p, [KeyEvent(.enter)])
        #expect(
            bad.isEmpty && p.formError == "URL: expected http(s)://host:port/v1 (got ftp://x)" && p.editing == .judge)
        _ = press(&p, [KeyEvent(.up), KeyEvent(.left)])  // rescore: yes
        _ = press(
            &p,
            Array(repeating: KeyEvent(.up), count: 5) + [KeyEvent(.enter)]
                + Array(repeating: KeyEvent(.backspace), count: 10)
                + "https://judge.example/v1".map { KeyEvent.char($0) } + [KeyEvent(.enter)])
        _ = press(&p, Array(repeating: KeyEvent(.down), count: 6))
        let (_, good) = press(&p, [KeyEvent(.enter)])
        #expect(
            good == [
                .bench(
                    .judge(
                        BenchJudgeRequest(
                            backend: .http(url: "https://judge.example/v1", model: "judge"),
                            maxTokens: 384, rescore: true)))
            ])
        var form = BenchJudgeRequest.form(judges: ["/m.gguf"], rubrics: [], runs: [])
        form["max"] = "0"
        #expect(BenchJudgeRequest.parse(form) == .failure(BenchFormError("Max tokens: 0 is not a positive number")))
    }
}
