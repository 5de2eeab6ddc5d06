import Foundation
import LEMFormats

extension LoRAWeights {
    /// Turns these weights into a DoRA layer: the magnitude starts at the base weight's row
    /// norms `‖W[o, :]‖` (matches mlx_lm DoRALinear.set_linear), so with `B = 0` training starts
    /// from the base model exactly. `weight` is the frozen base `[out, in]`, decoded row by row.
    public mutating func initializeMagnitude(from weight: any WeightTensor) {
        precondition(
            weight.rows == outputs && weight.columns == inputs, "DoRA magnitude: base weight shape does not match")
        var row = [Float](repeating: 0, count: inputs)  // (I)
        var m = [Float](repeating: 0, count: outputs)  // (O)
        row.withUnsafeMutableBufferPointer { r in
            for o in 0..<outputs {
                weight.decodeRow(o, into: r.baseAddress!)
                var sum: Double = 0
                for i in 0..<inputs { sum += Double(r[i]) * Double(r[i]) }
                m[o] = Float(sum.squareRoot())
            }
        }
        magnitude = m
    }
}
