import LEMCore
import Testing

@testable import Panels

@Suite("Bench panel consensus view")
struct ConsensusViewTests {
    /// Two benchmarks' boards: three models, four judges, one comparison split, one unanimous.
    static func model() -> BenchViewModel {
        func c(_ item: String, _ a: String, _ b: String, _ verdicts: String) -> ConsensusSubject {
            ConsensusSubject(
                item: item, modelA: a, modelB: b,
                verdicts: verdicts.enumerated().map { i, ch in
                    ConsensusSubject.Verdict(judge: "j\(i + 1)", outcome: ch == "A" ? .a : ch == "B" ? .b : .tie)
                })
        }
        let seeds = ConsensusBoard(
            benchmark: "seeds",
            ranking: [
                .init(name: "lek", theta: 1.2, low: 0.9, high: 1.6, wins: 12, losses: 2, ties: 2),
                .init(name: "base", theta: -0.1, low: -0.4, high: 0.2, wins: 6, losses: 8, ties: 2),
                .init(name: "smol", theta: -1.1, low: -1.5, high: -0.8, wins: 2, losses: 10, ties: 4)
            ], unanimousShare: 0.25, kappa: 0.412, judges: 4, items: 2,
            comparisons: [
                c("P01", "base", "lek", "BBBB"), c("P01", "base", "smol", "AA=B"), c("P02", "lek", "smol", "AAAA"),
                c("P02", "base", "lek", "B=BB")
            ], notes: [])
        let other = ConsensusBoard(
            benchmark: "truthfulqa",
            ranking: [.init(name: "lek", theta: 0, low: 0, high: 0, wins: 0, losses: 0, ties: 1)],
            unanimousShare: 0, kappa: nil, judges: 1, items: 1, comparisons: [c("T1", "base", "lek", "=")],
            notes: ["a note"])
        var vm = BenchPanelTests.storeModel()
        vm.setConsensus([seeds, other])
        return vm
    }

    @Test("non-unanimous comparisons come first, each group in its given order")
    func order() {
        let board = Self.model().consensus[0]
        #expect(board.comparisons.map { "\($0.item) \($0.modelB)" } == ["P01 smol", "P02 lek", "P01 lek", "P02 smol"])
        #expect(board.comparisons.map(\.isUnanimous) == [false, false, true, true])
    }

    @Test("tab reaches the view when votes are stored; ranking, intervals, unanimity, κ and votes render")
    func render() {
        var p = BenchPanel(model: Self.model())
        _ = press(&p, [KeyEvent(.tab), KeyEvent(.tab)])
        #expect(p.view == .consensus)
        let lines = renderPanel(p, width: 100, height: 20).lines
        #expect(lines[0].contains("Consensus · seeds") && lines[0].contains("unanimous 25.0 % · κ 0.412"))
        #expect(lines[0].contains("c next of 2"))
        let lek = lines.first { $0.contains(" 1 lek") } ?? ""
        #expect(lek.contains("+1.20") && lek.contains("●") && lek.contains("12–2–2 W–L–T"))
        // The interval bars share one scale: smol's lies left of lek's.
        let smol = lines.first { $0.contains(" 3 smol") } ?? ""
        #expect((smol.firstIndex(of: "●") ?? smol.endIndex) < (lek.firstIndex(of: "●") ?? lek.startIndex))
        let votes = lines.filter { $0.contains("P0") }
        #expect(votes.count == 4)
        #expect(votes[0].contains("! P01  base vs smol  AA=B  2–1–1"))
        #expect(votes[2].contains("  P01  base vs lek  BBBB  0–4–0"))
        #expect(lines.contains { $0.contains("4 comparisons of 2 items · 2 not unanimous (first)") })

        _ = press(&p, [.char("c")])
        let next = renderPanel(p, width: 100, height: 12).lines
        #expect(next[0].contains("Consensus · truthfulqa") && next[0].contains("κ undefined"))
        #expect(next.contains { $0.contains("note: a note") })
        _ = press(&p, [KeyEvent(.tab)])
        #expect(p.view == .summary)
    }

    @Test("no votes: tab skips the view; zero-size, tiny and narrow areas render without a trap")
    func sizes() {
        var p = BenchPanel(model: BenchPanelTests.storeModel())
        _ = press(&p, [KeyEvent(.tab), KeyEvent(.tab)])
        #expect(p.view == .summary)
        p.view = .consensus
        #expect(renderPanel(p, width: 60, height: 6).lines[1].contains("No consensus votes"))
        var q = BenchPanel(model: Self.model())
        q.view = .consensus
        for (w, h) in [(0, 0), (1, 1), (3, 2), (12, 4), (30, 6), (200, 50)] {
            let b = renderPanel(q, width: w, height: h)
            #expect(b.width == w && b.height == h)
        }
        // Narrow: the bar gives way to the interval's numbers.
        let narrow = renderPanel(q, width: 44, height: 10).lines
        #expect(narrow.contains { $0.contains("[+0.90, +1.60]") })
        // Scrolling past the end stops at the last line.
        _ = press(&q, Array(repeating: KeyEvent(.down), count: 50))
        #expect(
            renderPanel(q, width: 100, height: 8).lines.contains {
                $0.contains("P02  base vs smol") || $0.contains("P02  lek vs smol")
            })
    }
}
