import LEMCore

/// The phase table of a curriculum run, under the loss chart: each phase's length, last losses
/// and evaluation scores, the starting model's scores above phase 1.
extension TrainPanel {
    /// The table's height when `available` rows are left for the charts: its rows under a
    /// header between borders, while the loss chart keeps 8 rows; 0 without rows or when not
    /// even one row would fit.
    static func phaseTableHeight(rows: Int, available: Int) -> Int {
        guard rows > 0 else { return 0 }
        let height = min(rows + 3, available - 8)
        return height >= 4 ? height : 0
    }

    /// The score columns' titles: the dimension (`lek_score`), or the scorer's name where the
    /// dimension is unknown or shared by several columns (GSM8K's rules all score `correct`).
    static func scoreTitles(_ columns: [(scorer: String, dimension: String?)]) -> [String] {
        columns.map { c in
            guard let d = c.dimension, columns.filter({ $0.dimension == d }).count == 1 else { return c.scorer }
            return d
        }
    }

    /// Draws the table of `rows` in `area`, the newest row highlighted (and kept in view).
    func renderPhaseTable(_ rows: [TrainPhaseRow], into buffer: inout ScreenBuffer, area: Rect) {
        var benchmarks: [String] = []
        for e in model.phaseEvals where !e.benchmark.isEmpty && !benchmarks.contains(e.benchmark) {
            benchmarks.append(e.benchmark)
        }
        let block = Block(
            title: "Phases", rightTitle: benchmarks.isEmpty ? "" : "eval on " + benchmarks.joined(separator: ", "))
        block.render(into: &buffer, area: area)
        let inner = block.inner(area).inset(horizontal: 1, vertical: 0)
        guard !inner.isEmpty else { return }
        let scoreColumns = model.phaseScoreColumns
        let titles = Self.scoreTitles(scoreColumns)
        let names = rows.map { r in r.phase.map { "\($0 + 1) \(r.name)" } ?? r.name }
        let nameWidth = min(24, max(5, names.map { DisplayWidth.width(of: $0) }.max() ?? 0))
        var columns = [
            TableColumn("phase", .fixed(nameWidth)), TableColumn("iters", .fixed(6), alignRight: true),
            TableColumn("train", .fixed(7), alignRight: true), TableColumn("val", .fixed(7), alignRight: true)
        ]
        columns += titles.map { TableColumn($0, .fixed(max(7, DisplayWidth.width(of: $0))), alignRight: true) }
        let none = StyledSpan("—", .role(.textDim))
        func number(_ value: Double?, _ text: (Double) -> String, _ role: Role) -> StyledSpan {
            value.map { StyledSpan(text($0), .role(role)) } ?? none
        }
        let body = zip(rows, names).map { row, name -> [StyledSpan] in
            var cells = [
                StyledSpan(name, .role(row.phase == nil ? .textDim : .text)),
                row.iterations.map { StyledSpan("\($0)", .role(.text)) } ?? none,
                number(row.trainLoss, Fmt.value, .lossTrain), number(row.validationLoss, Fmt.value, .lossVal)
            ]
            for column in scoreColumns {
                let score = row.evaluation?.scores.first {
                    $0.scorer == column.scorer && $0.dimension == column.dimension
                }
                cells.append(number(score?.mean, { Fmt.fixed($0, 3) }, .probeScoreRole))
            }
            return cells
        }
        Table(
            columns: columns, rows: body, state: TableState(selected: rows.count - 1), focused: false, frozen: 1
        )
        .render(into: &buffer, area: inner)
    }
}
