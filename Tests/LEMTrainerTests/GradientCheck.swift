import Foundation
import LEMCore

/// The tests' deterministic generator: LEMCore's SplitMix64, so test inputs are identical on
/// every run.
typealias SeededGenerator = SplitMix64

/// `count` uniform values in `range`, reproducible from `seed`.
func randomValues(_ count: Int, seed: UInt64, in range: ClosedRange<Double> = -1...1) -> [Double] {
    var generator = SeededGenerator(seed: seed)
    return (0..<count).map { _ in Double.random(in: range, using: &generator) }
}

/// Central finite differences of `f` at `x`, one coordinate at a time, in Float64.
func numericalGradient(at x: [Double], step: Double = 1e-6, _ f: ([Double]) -> Double) -> [Double] {
    var probe = x
    return (0..<x.count).map { i in
        probe[i] = x[i] + step
        let up = f(probe)
        probe[i] = x[i] - step
        let down = f(probe)
        probe[i] = x[i]
        return (up - down) / (2 * step)
    }
}

/// Σ r·y: projects an output onto fixed random weights, giving a scalar loss whose output
/// gradient is exactly `r`.
func project(_ y: [Double], _ r: [Double]) -> Double {
    zip(y, r).reduce(0) { $0 + $1.0 * $1.1 }
}
