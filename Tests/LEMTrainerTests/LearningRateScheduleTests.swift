import Foundation
import Testing

@testable import LEMTrainer

/// Schedule formulas against values worked by hand (and mlx's documented examples).
@Suite struct LearningRateScheduleTests {
    @Test func cosineDecay() {
        let s = LearningRateSchedule.cosineDecay(initial: 0.1, decaySteps: 1000, end: 0)
        #expect(s.value(at: 0) == 0.1)
        // mlx's docstring: after 5 updates the rate is schedule(4) = 0.0999961.
        #expect(abs(s.value(at: 4) - 0.1 * 0.5 * (1 + cos(Double.pi * 4 / 1000))) < 1e-15)
        #expect(abs(s.value(at: 4) - 0.0999961) < 1e-7)
        #expect(abs(s.value(at: 500) - 0.05) < 1e-15)
        #expect(s.value(at: 5000) == 0)
        let withEnd = LearningRateSchedule.cosineDecay(initial: 1, decaySteps: 10, end: 0.2)
        #expect(abs(withEnd.value(at: 10) - 0.2) < 1e-15)
    }

    @Test func warmupJoinsAtWarmupPlusOne() throws {
        let s = try LearningRateSchedule.mlxLM(
            name: "cosine_decay", arguments: [1e-3, 100], warmup: 10, warmupInit: 1e-5)
        #expect(s.value(at: 0) == 1e-5)
        #expect(abs(s.value(at: 5) - (1e-5 + 5 * (1e-3 - 1e-5) / 10)) < 1e-15)
        #expect(abs(s.value(at: 10) - 1e-3) < 1e-15)  // end of the ramp
        #expect(abs(s.value(at: 11) - 1e-3) < 1e-15)  // cosine(0): the peak is used twice
        #expect(abs(s.value(at: 61) - 5e-4) < 1e-15)  // cosine(50) of 100
        // mlx's join_schedules docstring: linear(0, 0.1, 10) then cosine(0.1, 200) at 10;
        // after 12 updates the rate is 0.0999938.
        let joined = LearningRateSchedule.joined(
            first: .linear(initial: 0, end: 0.1, steps: 10), boundary: 10,
            then: .cosineDecay(initial: 0.1, decaySteps: 200, end: 0))
        #expect(abs(joined.value(at: 11) - 0.0999938) < 1e-7)
    }

    @Test func otherSchedules() throws {
        #expect(
            abs(
                try LearningRateSchedule.mlxLM(name: "exponential_decay", arguments: [0.1, 0.9]).value(at: 5) - 0.1
                    * pow(0.9, 5)) < 1e-15)
        // mlx's step_decay docstring: 0.1·0.9^(21/10) after 21 updates → schedule(20) = 0.081.
        #expect(
            abs(try LearningRateSchedule.mlxLM(name: "step_decay", arguments: [0.1, 0.9, 10]).value(at: 20) - 0.081)
                < 1e-15)
        #expect(try LearningRateSchedule.mlxLM(name: "linear_schedule", arguments: [0, 1, 4]).value(at: 3) == 0.75)
        #expect(LearningRateSchedule.constant(2e-5).value(at: 123) == 2e-5)
    }

    @Test func badSchedulesNameTheProblem() {
        #expect(throws: TrainingConfigError.self) { try LearningRateSchedule.mlxLM(name: "cosine", arguments: [1, 2]) }
        #expect(throws: TrainingConfigError.self) {
            try LearningRateSchedule.mlxLM(name: "cosine_decay", arguments: [1])
        }
        #expect(throws: TrainingConfigError.self) {
            try LearningRateSchedule.mlxLM(name: "cosine_decay", arguments: [1, 0.5])
        }
    }
}
