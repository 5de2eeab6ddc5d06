import Foundation

// The adapter's trained buffers as one flat list, in the order the optimizer, the gradient
// accumulator and the clipper see them: per adapted layer `lora_a`, `lora_b` and, for DoRA, the
// magnitude `m` (mlx_lm trains all three; its optimizer state is per parameter, so the order
// only has to be the same between the parameters and their gradients).

extension LoRAAdapter {
    /// Every trained buffer: per layer `a` (I·R), `b` (R·O) and, for DoRA, `m` (O).
    public var trainableParameters: [[Float]] {
        weights.flatMap { w -> [[Float]] in w.magnitude.map { [w.a, w.b, $0] } ?? [w.a, w.b] }
    }

    /// Writes buffers laid out as `trainableParameters` back into the layers.
    public mutating func setTrainableParameters(_ parameters: [[Float]]) {
        var k = 0
        for i in weights.indices {
            precondition(
                parameters[k].count == weights[i].a.count && parameters[k + 1].count == weights[i].b.count,
                "trainable parameter sizes do not match the adapter")
            weights[i].a = parameters[k]
            weights[i].b = parameters[k + 1]
            k += 2
            if weights[i].magnitude != nil {
                weights[i].magnitude = parameters[k]
                k += 1
            }
        }
    }

    /// The gradients laid out as `trainableParameters` (zeros for a layer or a magnitude the
    /// model gave no gradient for).
    public func flatGradients(_ gradients: [String: LoRAGradient<Float>]) -> [[Float]] {
        weights.flatMap { w -> [[Float]] in
            let g = gradients[w.modulePath]
            var flat = [
                g?.a ?? [Float](repeating: 0, count: w.a.count), g?.b ?? [Float](repeating: 0, count: w.b.count)
            ]
            if w.magnitude != nil { flat.append(g?.m ?? [Float](repeating: 0, count: w.outputs)) }
            return flat
        }
    }
}

extension LoRAGradient {
    /// Zero gradients shaped like `weights` (with a magnitude gradient for DoRA layers).
    static func zeros(for weights: LoRAWeights) -> LoRAGradient {
        LoRAGradient(
            a: [T](repeating: 0, count: weights.a.count), b: [T](repeating: 0, count: weights.b.count),
            m: weights.magnitude.map { _ in [T](repeating: 0, count: weights.outputs) })
    }
}
