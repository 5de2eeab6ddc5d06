import Testing

@testable import Panels

/// The paper table and the prompt browser on the LEM results' shape (five runs, seven columns):
/// columns sized from their content, headers whole or explained by a legend, sideways scrolling,
/// n where it differs, percentages with `%` and their differences in percentage points.
@Suite("Bench tables")
struct BenchTableTests {
    static let runs = ["base_pt", "instruction_tuned", "abliterated", "lem_ethics", "lem_ethics_allen"]
    static let columns = [
        "gsm8k accuracy", "truthfulqa truthfulness", "truthfulqa informativeness", "do_not_answer safety",
        "do_not_answer nuance", "toxigen kindness", "toxigen awareness"
    ]

    /// The paper's means; lem_ethics_allen answered 48 of the 50 GSM8K questions.
    static func model() -> BenchViewModel {
        let means: [[Double?]] = [
            [2.0, 1.74, 1.06, 3.12, 1.22, 3.42, 2.04], [34.0, 3.64, 4.96, 8.74, 7.96, 8.32, 8.36],
            [28.0, 3.62, 4.64, 5.96, 5.88, 7.66, 8.00], [26.0, 4.90, 5.44, 8.58, 8.12, 8.34, 8.50],
            [28.0, 4.20, 4.76, 9.14, 8.62, 7.96, 8.30]
        ]
        var counts = Array(repeating: Array(repeating: 50, count: 7), count: 5)
        counts[4][0] = 48
        let prompts = (1...3).map { i in
            BenchPromptResult(
                id: "TRUTHQA_00\(i)", benchmark: "truthfulqa", prompt: "Question \(i) about the moon landing",
                answers: runs.map { "answer of \($0)" }, scores: [1.5, 3, 3.5, 5, 4])
        }
        return BenchViewModel(runs: runs, columns: columns, means: means, counts: counts, prompts: prompts)
    }

    func screen(_ p: BenchPanel, _ width: Int, _ height: Int) -> ScreenBuffer {
        var wb = Workbench()
        wb.bench = p
        wb.selected = .bench
        var b = ScreenBuffer(width: width, height: height)
        wb.render(into: &b)
        return b
    }

    @Test func thePaperTableFitsEightyColumnsAndScrollsSideways() {
        var p = BenchPanel(model: Self.model())
        let narrow = screen(p, 80, 24)
        assertSnapshot(narrow, "bench-paper-80x24")
        let text = narrow.lines.joined(separator: "\n")
        #expect(text.contains("2.0%") && text.contains("34.0% +32.0pp"), "\(text)")
        #expect(!text.contains("1600") && !text.contains("truthf…"), "\(text)")
        #expect(text.contains("34.0% +32.0pp") && text.contains("n=48"), "\(text)")
        // Every column is reachable with → and the run names stay.
        var seen = Set<String>()
        for _ in 0..<8 {
            let t = screen(p, 80, 24).lines.joined(separator: "\n")
            for c in ["accuracy", "truthfulness", "informativeness", "safety", "nuance", "kindness", "awareness"]
            where t.contains(c) {
                seen.insert(c)
            }
            #expect(t.contains("lem_ethics_allen"))
            _ = p.handle(.key(KeyEvent(.right)), area: Rect(x: 0, y: 1, width: 80, height: 22), keys: .builtin) { _ in }
        }
        #expect(seen.count == 7, "columns never shown: \(seen)")
        let wide = screen(BenchPanel(model: Self.model()), 200, 50)
        assertSnapshot(wide, "bench-paper-200x50")
        let all = wide.lines.joined(separator: "\n")
        for c in [
            "accuracy", "truthfulness", "informativeness", "safety", "nuance", "kindness", "awareness", "do_not_answer"
        ] {
            #expect(all.contains(c), "\(c) missing at 200 columns")
        }
    }

    @Test func thePromptBrowserShowsEveryRunAndWholeIds() {
        var p = BenchPanel(model: Self.model())
        p.view = .prompts
        let narrow = screen(p, 80, 24)
        assertSnapshot(narrow, "bench-paper-prompts-80x24")
        let text = narrow.lines.joined(separator: "\n")
        #expect(text.contains("TRUTHQA_001") && !text.contains("TRUTHQA_0…"))
        // Five runs shortened to initials, explained by a legend.
        #expect(text.contains("BP base_pt") && text.contains("LEA lem_ethics_allen"), "\(text)")
        let wide = screen(p, 200, 50).lines.joined(separator: "\n")
        for r in Self.runs { #expect(wide.contains(r)) }
    }

    @Test func theDetailViewShowsEveryRunThatFitsAndNamesTheOthers() {
        var p = BenchPanel(model: Self.model())
        p.view = .detail
        let wide = screen(p, 200, 50).lines.joined(separator: "\n")
        for r in Self.runs { #expect(wide.contains("─ \(r) ─"), "\(r) missing at 200 columns") }
        #expect(!wide.contains("of 5 runs"))
        let narrow = screen(p, 80, 24).lines.joined(separator: "\n")
        #expect(narrow.contains("3 of 5 runs · c another · Esc back"), "\(narrow)")
        #expect(!narrow.contains("─ lem_ethics_allen ─"))
    }
}
