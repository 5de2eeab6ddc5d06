import Foundation
import LEMFormats

extension InferenceAdapter.Module {
    /// The dense weight this module's layer computes, `[out, in]` row-major f32: LoRA
    /// `W + s·(A B)ᵀ`; DoRA `(m / ‖W + s·(A B)ᵀ‖_row) · (W + s·(A B)ᵀ)` (matches mlx_lm's
    /// LoRALinear.fuse / DoRALinear.fuse), with `s` the adapter's scale times `strength`.
    ///
    /// `base` is decoded one row at a time, so a quantized base is dequantized here.
    public func fusedWeight(base: any WeightTensor, strength: Float = 1) -> [Float] {
        precondition(
            base.rows == outputs && base.columns == inputs, "fusedWeight: base shape does not match the adapter")
        let s = scale * strength
        var result = [Float](repeating: 0, count: outputs * inputs)  // (O, I)
        result.withUnsafeMutableBufferPointer { w in
            for o in 0..<outputs {
                let row = w.baseAddress! + o * inputs
                base.decodeRow(o, into: row)
                for i in 0..<inputs {
                    var delta: Float = 0
                    for r in 0..<rank { delta += a[i * rank + r] * b[r * outputs + o] }
                    row[i] += s * delta
                }
                if let magnitude {
                    var norm2: Double = 0
                    for i in 0..<inputs { norm2 += Double(row[i]) * Double(row[i]) }
                    let k = Float(Double(magnitude[o]) / norm2.squareRoot())
                    for i in 0..<inputs { row[i] *= k }
                }
            }
        }
        return result
    }
}

/// A dense in-memory f32 weight, what fusing produces for an adapted layer.
public struct DenseWeight: WeightTensor {
    public let name: String
    public let shape: [Int]
    /// Row-major values. // (rows, columns)
    public let values: [Float]
    public var encoding: String { "f32" }
    public var storedBytes: Int { values.count * 4 }

    /// Wraps `values` (row-major, `shape.reduce(1, *)` elements) as a tensor named `name`.
    public init(name: String, shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "DenseWeight: \(values.count) values for shape \(shape)")
        self.name = name
        self.shape = shape
        self.values = values
    }

    /// Copies row `row` into `out`.
    public func decodeRow(_ row: Int, into out: UnsafeMutablePointer<Float>) {
        let cols = columns
        values.withUnsafeBufferPointer { v in out.update(from: v.baseAddress! + row * cols, count: cols) }
    }
}

extension InferenceAdapter {
    /// `tensors` with every adapted layer's `<path>.weight` replaced by its fused dense weight.
    ///
    /// Throws the same errors as loading the adapter onto a model would for a module with no
    /// base weight or a mismatched shape.
    public func fused(into tensors: [String: any WeightTensor], strength: Float = 1) throws -> [String:
        any WeightTensor]
    {
        var result = tensors
        for (path, module) in modules {
            guard let base = tensors[path + ".weight"] else {
                throw FormatError(weightsFile, tensor: module.key, "adapts \(path), which the model has no weight for")
            }
            guard base.rows == module.outputs, base.columns == module.inputs, base.shape.count == 2 else {
                throw FormatError(
                    weightsFile, tensor: module.key,
                    "adapts \(path) as (in \(module.inputs), out \(module.outputs)) but the model's weight has shape \(base.shape)"
                )
            }
            result[path + ".weight"] = DenseWeight(
                name: path + ".weight", shape: base.shape, values: module.fusedWeight(base: base, strength: strength))
        }
        return result
    }
}
