import LEMCore

/// The Consensus view: the ranking with an interval bar per model, unanimity and κ, then the
/// comparisons with each judge's verdict, non-unanimous first. `c` shows the next benchmark.
extension BenchPanel {
    /// The board on show, if the store holds votes.
    var consensusBoard: ConsensusBoard? {
        model.consensus.isEmpty ? nil : model.consensus[consensusIndex % model.consensus.count]
    }

    func renderConsensus(into buffer: inout ScreenBuffer, area: Rect, focused: Bool) {
        guard let board = consensusBoard else {
            let block = Block(title: "Consensus", focused: focused)
            block.render(into: &buffer, area: area)
            let text = "No consensus votes: run lem bench consensus --judges FILE --models A,B --benchmark X."
            TextView(
                StyledLine(text, .role(.textDim, .italic)).wrapped(to: max(1, area.width - 3)), showsScrollbar: false
            )
            .render(into: &buffer, area: block.inner(area).inset(horizontal: 1, vertical: 0))
            return
        }
        let others = model.consensus.count > 1 ? " · c next of \(model.consensus.count)" : ""
        let kappa = board.kappa.map { "κ " + Fmt.fixed($0, 3) } ?? "κ undefined"
        let block = Block(
            title: "Consensus · \(board.benchmark)",
            rightTitle:
                "\(board.judges) judges · unanimous \(Fmt.fixed(board.unanimousShare * 100, 1)) % · \(kappa)\(others)",
            focused: focused)
        block.render(into: &buffer, area: area)
        let inner = block.inner(area).inset(horizontal: 1, vertical: 0)
        guard !inner.isEmpty else { return }
        let lines = TextView.fitting(inner) { consensusLines(board, width: $0) }
        TextView(lines, offset: consensusOffset).render(into: &buffer, area: inner)
    }

    /// The whole view as lines `width` columns wide.
    func consensusLines(_ board: ConsensusBoard, width: Int) -> [StyledLine] {
        let nameWidth = min(max(5, board.ranking.map { DisplayWidth.width(of: $0.name) }.max() ?? 5), max(5, width / 3))
        var lines: [StyledLine] = [
            StyledLine(
                DisplayWidth.pad("#", to: 2, alignRight: true) + " " + DisplayWidth.pad("model", to: nameWidth)
                    + DisplayWidth.pad("θ", to: 8, alignRight: true) + "  95 % interval",
                .role(.tableHeader, .bold))
        ]
        // A shared scale for every interval bar.
        let lo = board.ranking.map(\.low).min() ?? 0
        let hi = board.ranking.map(\.high).max() ?? 0
        let fixed = 2 + 1 + nameWidth + 8 + 2
        let record = 16
        let barWidth = max(0, width - fixed - record - 2)
        for (i, r) in board.ranking.enumerated() {
            var line = StyledLine(DisplayWidth.pad("\(i + 1)", to: 2, alignRight: true) + " ", .role(.textDim))
            line.append(DisplayWidth.pad(r.name, to: nameWidth), .role(.text, i == 0 ? .bold : []))
            line.append(DisplayWidth.pad(Self.signed(r.theta, 2), to: 8, alignRight: true) + "  ", .role(.accent))
            // Too narrow for a bar: the interval's numbers instead.
            line.append(
                barWidth >= 5
                    ? intervalBar(r, lo: lo, hi: hi, width: barWidth)
                    : "[\(Self.signed(r.low, 2)), \(Self.signed(r.high, 2))]", .role(.accent))
            line.append("  \(r.wins)–\(r.losses)–\(r.ties) W–L–T", .role(.textDim))
            lines.append(line)
        }
        lines += board.notes.flatMap { StyledLine("note: " + $0, .role(.warning)).wrapped(to: width) }
        lines.append("")
        let split = board.comparisons.filter { !$0.isUnanimous }.count
        lines.append(
            StyledLine(
                "\(board.comparisons.count) comparisons of \(board.items) items · \(split) not unanimous (first) · "
                    + "A = first model, B = second, = tie", .role(.heading, .bold)))
        let judges = board.comparisons.first?.verdicts.map(\.judge) ?? []
        if !judges.isEmpty {
            lines.append(StyledLine("judges: " + judges.joined(separator: " "), .role(.textDim)))
        }
        for c in board.comparisons {
            var line = StyledLine(c.isUnanimous ? "  " : "! ", .role(c.isUnanimous ? .textDim : .warning, .bold))
            line.append(c.item + "  ", .role(.text, .bold))
            line.append("\(c.modelA) vs \(c.modelB)  ", .role(.textDim))
            for v in c.verdicts {
                switch v.outcome {
                case .a: line.append("A", .role(.deltaUp, .bold))
                case .b: line.append("B", .role(.deltaDown, .bold))
                case .tie: line.append("=", .role(.textDim))
                }
            }
            let n = c.tally
            line.append("  \(n[.a, default: 0])–\(n[.b, default: 0])–\(n[.tie, default: 0])", .role(.textDim))
            lines += line.wrapped(to: width, indent: 4)
        }
        return lines
    }

    /// `├──●──┤` from `low` to `high` with `●` at θ, on the scale lo…hi over `width` cells.
    func intervalBar(_ r: ConsensusRank, lo: Double, hi: Double, width: Int) -> String {
        let span = hi - lo
        func cell(_ v: Double) -> Int {
            guard span > 0, v.isFinite else { return width / 2 }
            return min(width - 1, max(0, Int(((v - lo) / span * Double(width - 1)).rounded())))
        }
        let (a, b, t) = (cell(r.low), cell(r.high), cell(r.theta))
        return String(
            (0..<width).map { x -> Character in
                x == t ? "●" : x == a ? "├" : x == b ? "┤" : x > a && x < b ? "─" : " "
            })
    }
}
