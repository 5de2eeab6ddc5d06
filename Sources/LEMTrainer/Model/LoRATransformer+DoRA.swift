import Foundation
import LEMEngine

// DoRA's row norms in the fast trainer (the DoRA step itself is DoRAState.swift, shared with
// the oracle): n = ‖W + s·(A B)ᵀ‖ per output row, recomputed once per loss evaluation from the
// current A and B, decoding the frozen base a tile at a time as the forward does.
// Legend: I inputs, O outputs, R rank, t rows of one tile.

extension LoRATransformer {
    /// `n[o] = ‖W[o, :] + s · Σ_r A[:, r] B[r, o]‖`: each tile of decoded base rows gets
    /// `s · B[:, tile]ᵀ Aᵀ` added by sgemm, then its rows are summed in Float64.
    func doraRowNorms(_ linear: FrozenLinear, _ weights: LoRAWeights, scale: Float) -> [Float] {
        let i = linear.inputs
        let o = linear.outputs
        let step = linear.tileRows
        let rank = weights.rank
        var norms = [Float](repeating: 0, count: o)  // (O)
        var tile = [Float](repeating: 0, count: step * i)  // (t, I)
        var start = 0
        while start < o {
            let count = min(step, o - start)
            tile.withUnsafeMutableBufferPointer { t in
                linear.decode(rows: start, count: count, into: t.baseAddress!)
                weights.b.withUnsafeBufferPointer { bp in
                    // tile (t, I) += s · B[:, start ..< start + t]ᵀ (t, R) · Aᵀ (R, I)
                    sgemm(
                        transA: true, transB: true, m: count, n: i, k: rank, alpha: scale, bp.baseAddress! + start,
                        lda: o,
                        weights.a, ldb: rank, beta: 1, t.baseAddress!, ldc: i)
                }
                for r in 0..<count {
                    var sum = 0.0
                    for j in 0..<i {
                        let v = Double(t[r * i + j])
                        sum += v * v
                    }
                    norms[start + r] = Float(sum.squareRoot())
                }
            }
            start += count
        }
        return norms
    }

    /// DoRA's initial magnitude: the frozen base weight's row norms. // (O)
    public func baseRowNorms(layer: Int, module: String) throws -> [Float] {
        guard layers.indices.contains(layer), let linear = layers[layer].linears[module] else {
            throw TrainingConfigError.invalid(
                key: "lora_parameters.keys", reason: "no linear layer 'model.layers.\(layer).\(module)'")
        }
        var weights = LoRAWeights(
            layer: layer, module: module, inputs: linear.inputs, outputs: linear.outputs, rank: 1,
            a: [Float](repeating: 0, count: linear.inputs), b: [Float](repeating: 0, count: linear.outputs))
        weights.initializeMagnitude(from: linear.weight)
        return weights.magnitude!
    }
}
