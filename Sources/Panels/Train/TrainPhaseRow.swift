import LEMCore

/// One row of the Train panel's phase table: a curriculum phase (or the model the curriculum
/// starts from) with its length, its last losses and its evaluation scores.
public struct TrainPhaseRow: Hashable, Sendable {
    /// The phase's place (0-based); nil for the starting model.
    public var phase: Int?
    /// The phase's name (`base` for the starting model).
    public var name: String
    /// The phase's iterations (nil for the starting model, or while the total is unknown).
    public var iterations: Int?
    /// The last train loss reported in the phase.
    public var trainLoss: Double?
    /// The last validation loss of the phase (the one at its first step validates the weights
    /// it started from, so it counts only when there is no later one).
    public var validationLoss: Double?
    /// The phase's evaluation, once it finished.
    public var evaluation: PhaseEvalReport?
}

extension TrainViewModel {
    /// The phase table: the starting model's row when it was evaluated, then one row per phase
    /// (marked in the log or evaluated), in curriculum order. Empty for a single run.
    ///
    /// A phase runs from its mark's step to the next mark's (the last one to `totalSteps`); its
    /// train reports have steps after its start, its validations steps from its start on (a
    /// validation's step counts the iterations done before it ran).
    public var phaseRows: [TrainPhaseRow] {
        var rows: [TrainPhaseRow] = []
        if let base = phaseEvals.last(where: { $0.phase == nil }) {
            rows.append(TrainPhaseRow(phase: nil, name: base.name, evaluation: base))
        }
        let indices = Set(phases.map(\.index)).union(phaseEvals.compactMap(\.phase)).sorted()
        for index in indices {
            let evaluation = phaseEvals.last { $0.phase == index }
            guard let k = phases.firstIndex(where: { $0.index == index }) else {
                rows.append(TrainPhaseRow(phase: index, name: evaluation?.name ?? "", evaluation: evaluation))
                continue
            }
            let mark = phases[k]
            let end = k + 1 < phases.count ? phases[k + 1].step : totalSteps
            let span = mark.step..<max(mark.step, end ?? Int.max)
            rows.append(
                TrainPhaseRow(
                    phase: index, name: mark.name, iterations: end.map { max(0, $0 - mark.step) },
                    trainLoss: trainLoss.last { span.contains($0.step - 1) }?.value,
                    validationLoss: validationLoss.last { span.contains($0.step) }?.value, evaluation: evaluation))
        }
        return rows
    }

    /// The scores the phase table shows, one column each: every (scorer, dimension) of the
    /// evaluations, in order of first appearance.
    public var phaseScoreColumns: [(scorer: String, dimension: String?)] {
        var columns: [(scorer: String, dimension: String?)] = []
        for score in phaseEvals.flatMap(\.scores)
        where !columns.contains(where: { $0.scorer == score.scorer && $0.dimension == score.dimension }) {
            columns.append((score.scorer, score.dimension))
        }
        return columns
    }
}
