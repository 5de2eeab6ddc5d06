import LEMEngine

// DoRA's row norms in the naive oracle (the DoRA step itself is DoRAState.swift, shared with the
// fast model): n = ‖W + s·(A B)ᵀ‖ per output row from the plain kernel of Kernels+DoRA.swift in
// `T`. Legend: O outputs.

extension TrainableTransformer {
    /// `n[o] = ‖W[o, :] + s · Σ_r A[:, r] B[r, o]‖` in `T`. // (O)
    func doraRowNorms(_ linear: LinearWeights, _ w: LoRAWeights, scale: T) -> [T] {
        var norms = [T](repeating: 0, count: w.outputs)  // (O)
        Kernels.doraRowNorms(
            weight: linear.weight, loraA: T.converting(w.a), loraB: T.converting(w.b), scale: scale,
            inputs: w.inputs, outputs: w.outputs, rank: w.rank, into: &norms)
        return norms
    }

    /// DoRA's initial magnitude: the base weight's row norms (summed in Float64). // (O)
    public func baseRowNorms(layer: Int, module: String) throws -> [Float] {
        guard layers.indices.contains(layer), let linear = layers[layer].linears[module] else {
            throw TrainingConfigError.invalid(
                key: "lora_parameters.keys", reason: "no linear layer 'model.layers.\(layer).\(module)'")
        }
        return (0..<linear.outputs).map { o in
            var sum = 0.0
            for i in 0..<linear.inputs {
                let v = Double(linear.weight[o * linear.inputs + i])
                sum += v * v
            }
            return Float(sum.squareRoot())
        }
    }
}
