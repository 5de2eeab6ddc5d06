import Testing

@testable import LEMTrainer

/// Global-norm clipping and gradient accumulation with hand-computed values.
@Suite struct GradientsTests {
    @Test func clipping() {
        var g: [[Float]] = [[3, 0], [4]]  // norm 5
        let norm = Gradients.clipGlobalNorm(&g, maxNorm: 1)
        #expect(norm == 5)
        let f = Float(1 / (5 + 1e-6))
        #expect(g == [[3 * f, 0], [4 * f]])
        var small: [[Float]] = [[0.3], [0.4]]
        Gradients.clipGlobalNorm(&small, maxNorm: 1)
        #expect(small == [[0.3], [0.4]])
    }

    @Test func accumulationAveragesEveryNBatches() throws {
        var acc = try GradientAccumulator(steps: 2)
        #expect(acc.add([[1, 2]]) == nil)
        #expect(acc.add([[3, 6]]) == [[2, 4]])
        #expect(acc.add([[5, 5]]) == nil)
        #expect(acc.pending == 1)
        var single = try GradientAccumulator(steps: 1)
        #expect(single.add([[7]]) == [[7]])
        #expect(throws: TrainingConfigError.self) { try GradientAccumulator(steps: 0) }
    }
}
