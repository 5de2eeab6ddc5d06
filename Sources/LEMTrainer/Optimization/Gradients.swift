/// Gradient utilities applied between the backward pass and the optimizer: global-norm
/// clipping and accumulation over several batches.
public enum Gradients {
    /// The global L2 norm over all buffers, accumulated in Float64.
    public static func globalNorm(_ gradients: [[Float]]) -> Double {
        var sum = 0.0
        for buffer in gradients { for g in buffer { sum += Double(g) * Double(g) } }
        return sum.squareRoot()
    }

    /// Scales every gradient by `min(maxNorm / (norm + 1e-6), 1)` (mlx `clip_grad_norm`) and
    /// returns the norm before clipping.
    @discardableResult
    public static func clipGlobalNorm(_ gradients: inout [[Float]], maxNorm: Double) -> Double {
        let norm = globalNorm(gradients)
        let factor = min(maxNorm / (norm + 1e-6), 1)
        if factor < 1 {
            let f = Float(factor)
            for b in gradients.indices { for i in gradients[b].indices { gradients[b][i] *= f } }
        }
        return norm
    }
}

/// Sums gradients over `steps` batches and yields their mean, as mlx_lm's
/// `grad_accumulation_steps`: the optimizer updates on iterations divisible by `steps`, with
/// the summed gradients divided by `steps`.
public struct GradientAccumulator: Sendable {
    /// Batches per optimizer update (≥ 1).
    public let steps: Int
    /// Batches added since the last update.
    public private(set) var pending = 0
    private var sums: [[Float]] = []

    /// Creates an accumulator for `steps` batches per update.
    public init(steps: Int) throws {
        guard steps >= 1 else {
            throw TrainingConfigError.invalid(
                key: "grad_accumulation_steps", reason: "must be at least 1, got \(steps)")
        }
        self.steps = steps
    }

    /// Adds one batch's gradients; returns the averaged gradients when `steps` batches have been
    /// added (and resets), nil otherwise.
    public mutating func add(_ gradients: [[Float]]) -> [[Float]]? {
        if sums.isEmpty {
            sums = gradients
        } else {
            for b in sums.indices { for i in sums[b].indices { sums[b][i] += gradients[b][i] } }
        }
        pending += 1
        guard pending == steps else { return nil }
        var result = sums
        if steps > 1 {
            let divisor = Float(steps)
            for b in result.indices { for i in result[b].indices { result[b][i] /= divisor } }
        }
        sums = []
        pending = 0
        return result
    }
}
