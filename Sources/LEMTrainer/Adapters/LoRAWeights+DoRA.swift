import Foundation
import LEMEngine
import LEMFormats

extension LoRAWeights {
    /// Turns these weights into a DoRA layer: the magnitude starts at the base weight's row
    /// norms `‖W[o, :]‖` (matches mlx_lm DoRALinear.set_linear), so with `B = 0` training starts
    /// from the base model exactly. `weight` is the frozen base `[out, in]`, decoded row by row.
    public mutating func initializeMagnitude(from weight: any WeightTensor) {
        precondition(
            weight.rows == outputs && weight.columns == inputs, "DoRA magnitude: base weight shape does not match")
        magnitude = LinearAdapter.rowNorms(weight: weight).map { Float($0) }
    }
}
