import Foundation
import TestSupport
import Testing

@testable import LEMTrainer

/// Adam, AdamW and SGD against hand-computed updates and against mlx.optimizers itself
/// (Tests/Fixtures/trainer/optimizers.json from Scripts/fixtures_trainer.py).
@Suite struct OptimizerTests {
    @Test func adamMatchesHandComputedSteps() {
        // No bias correction: m₁ = 0.1g, v₁ = 0.001g², w₁ = w₀ − lr·m₁/(√v₁ + 1e-8) ≈ w₀ − 3.162·lr·sign(g).
        var adam = Adam()
        var w: [[Float]] = [[1.0, -2.0]]
        let lr: Float = 0.01
        adam.update(parameters: &w, gradients: [[0.5, -4.0]], learningRate: lr)
        func expected(_ w0: Double, _ g: [Double]) -> Double {
            var m = 0.0
            var v = 0.0
            var w = w0
            for gi in g {
                m = 0.9 * m + 0.1 * gi
                v = 0.999 * v + 0.001 * gi * gi
                w -= 0.01 * m / (v.squareRoot() + 1e-8)
            }
            return w
        }
        #expect(abs(Double(w[0][0]) - (1 - 0.01 * 0.05 / (0.00025.squareRoot() + 1e-8))) < 1e-6)
        #expect(abs(Double(w[0][0]) - (1 - 0.01 * 3.16227766)) < 1e-6)
        #expect(abs(Double(w[0][1]) - expected(-2, [-4])) < 1e-6)
        adam.update(parameters: &w, gradients: [[-1.0, 2.0]], learningRate: lr)
        #expect(abs(Double(w[0][0]) - expected(1, [0.5, -1])) < 1e-6)
        #expect(abs(Double(w[0][1]) - expected(-2, [-4, 2])) < 1e-6)
        #expect(adam.step == 2)
    }

    @Test func adamWDecaysBeforeTheAdamUpdate() {
        var adamW = AdamW(weightDecay: 0.1)
        var w: [[Float]] = [[2.0]]
        adamW.update(parameters: &w, gradients: [[1.0]], learningRate: 0.5)
        // w ← 2·(1 − 0.5·0.1) = 1.9, then − 0.5·0.1/(√0.001 + 1e-8).
        #expect(abs(Double(w[0][0]) - (1.9 - 0.5 * 0.1 / (0.001.squareRoot() + 1e-8))) < 1e-6)
    }

    @Test func sgdWithMomentum() {
        var sgd = SGD(momentum: 0.9)
        var w: [[Float]] = [[1.0]]
        sgd.update(parameters: &w, gradients: [[1.0]], learningRate: 0.1)  // v = 1, w = 0.9
        sgd.update(parameters: &w, gradients: [[1.0]], learningRate: 0.1)  // v = 1.9, w = 0.71
        #expect(abs(w[0][0] - 0.71) < 1e-6)
    }

    struct Fixture: Decodable {
        struct Run: Decodable {
            struct Step: Decodable {
                var lr: Double
                var a: [Float]
                var b: [Float]
            }
            var optimizer: String
            var steps: [Step]
        }
        struct Schedule: Decodable {
            var name: String
            var arguments: [Double]
            var warmup: Int
            var warmup_init: Double
        }
        var schedule: Schedule
        var initial: [String: [Float]]
        var gradients: [[String: [Float]]]
        var runs: [Run]
    }

    @Test func matchesMLXOptimizers() throws {
        let url = TestPaths.fixture("trainer/optimizers.json")
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        let s = fixture.schedule
        let schedule = try LearningRateSchedule.mlxLM(
            name: s.name, arguments: s.arguments, warmup: s.warmup, warmupInit: s.warmup_init)
        for run in fixture.runs {
            var optimizer: any Optimizer
            switch run.optimizer {
            case "adam": optimizer = Adam()
            case "adam_bias_correction": optimizer = Adam(biasCorrection: true)
            case "adamw": optimizer = AdamW(weightDecay: 0.1)
            case "sgd_nesterov": optimizer = SGD(momentum: 0.9, weightDecay: 0.01, nesterov: true)
            default:
                Issue.record("unknown optimizer \(run.optimizer)")
                continue
            }
            var parameters = [fixture.initial["a"]!, fixture.initial["b"]!]
            for (k, step) in run.steps.enumerated() {
                let lr = schedule.value(at: optimizer.step)
                #expect(abs(lr - step.lr) < 1e-9, "\(run.optimizer) step \(k) lr")
                let g = fixture.gradients[k]
                optimizer.update(parameters: &parameters, gradients: [g["a"]!, g["b"]!], learningRate: Float(lr))
                #expect(checkClose(parameters[0], step.a, tol: 2e-6, label: "\(run.optimizer) step \(k) a") == nil)
                #expect(checkClose(parameters[1], step.b, tol: 2e-6, label: "\(run.optimizer) step \(k) b") == nil)
            }
        }
    }
}
