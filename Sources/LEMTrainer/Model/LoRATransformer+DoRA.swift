import Foundation
import LEMEngine

// DoRA in the fast trainer (mlx_lm DoRALinear; the steps are listed in Kernels+DoRA.swift):
//   y0  = x Wᵀ + s·(x A) B          (the LoRA linear without its bias)
//   out = (m / n) ⊙ y0 + bias       with n = ‖W + s·(A B)ᵀ‖ per output row, a constant
// `linear` calls `doraForward` after the LoRA product and records y0; `linearBackward` first
// turns the output gradient into y0's with `doraBackward` (adding dm) and then runs the plain
// LoRA backward. The norms are recomputed once per loss evaluation from the current A and B,
// decoding the frozen base a tile at a time as the forward does.
// Legend: N rows, I inputs, O outputs, R rank, t rows of one tile.

extension LoRATransformer {
    /// The magnitude and current row norms of every DoRA layer of `adapter`, keyed by
    /// `model.layers.N.<module>`.
    func doraStates(_ adapter: LoRAAdapter) -> [String: DoRAState<Float>] {
        var states: [String: DoRAState<Float>] = [:]
        let scale = Float(adapter.parameters.scale)
        for w in adapter.weights {
            guard let m = w.magnitude, layers.indices.contains(w.layer), let linear = layers[w.layer].linears[w.module]
            else { continue }
            states[w.modulePath] = DoRAState(magnitude: m, norms: Self.adaptedRowNorms(linear, a: w.a, b: w.b, rank: w.rank, scale: scale))
        }
        return states
    }

    /// `n[o] = ‖W[o, :] + s · Σ_r A[:, r] B[r, o]‖`: each tile of decoded base rows gets
    /// `s · B[:, tile]ᵀ Aᵀ` added by sgemm, then its rows are summed in Float64.
    static func adaptedRowNorms(_ linear: FrozenLinear, a: [Float], b: [Float], rank: Int, scale: Float) -> [Float] {
        let i = linear.inputs, o = linear.outputs, step = linear.tileRows
        var norms = [Float](repeating: 0, count: o)  // (O)
        var tile = [Float](repeating: 0, count: step * i)  // (t, I)
        var start = 0
        while start < o {
            let count = min(step, o - start)
            tile.withUnsafeMutableBufferPointer { t in
                linear.decode(rows: start, count: count, into: t.baseAddress!)
                b.withUnsafeBufferPointer { bp in
                    // tile (t, I) += s · B[:, start ..< start + t]ᵀ (t, R) · Aᵀ (R, I)
                    sgemm(transA: true, transB: true, m: count, n: i, k: rank, alpha: scale, bp.baseAddress! + start, lda: o,
                          a, ldb: rank, beta: 1, t.baseAddress!, ldc: i)
                }
                for r in 0 ..< count {
                    var sum = 0.0
                    for j in 0 ..< i { let v = Double(t[r * i + j]); sum += v * v }
                    norms[start + r] = Float(sum.squareRoot())
                }
            }
            start += count
        }
        return norms
    }

    /// Turns `y` (the LoRA output with the bias) into DoRA's `(m / n) ⊙ y0 + bias`, recording y0.
    func doraForward(_ y: inout [Float],  // (N, O)
                     state: DoRAState<Float>, bias: [Float]?, module: String, record: inout BlockRecord) {
        let o = state.outputs, n = y.count / o
        var y0 = y  // (N, O)
        if let bias {
            for r in 0 ..< n { for c in 0 ..< o { y0[r * o + c] -= bias[c] } }
        }
        bias.withOptionalPointer { bias in
            Kernels.doraRescale(y0, magnitude: state.magnitude, norms: state.norms, bias: bias, rows: n, outputs: o, into: &y)
        }
        record.doraOutputs[module] = y0
    }

    /// The gradient of y0 from that of the DoRA output, adding `dm` into the layer's gradient;
    /// `dOut` unchanged for a plain LoRA or frozen layer.
    func doraBackward(_ dOut: [Float],  // (N, O)
                      path: String, module: String, view: AdapterView, record: BlockRecord,
                      gradients: inout [String: LoRAGradient<Float>]) -> [Float] {
        guard let state = view.dora[path], let y0 = record.doraOutputs[module], var g = gradients[path] else { return dOut }
        gradients[path] = nil  // keep `g` uniquely referenced while it is written
        let o = state.outputs
        var dY0 = [Float](repeating: 0, count: dOut.count)  // (N, O)
        var dm = g.m ?? [Float](repeating: 0, count: o)  // (O)
        Kernels.doraRescaleBackward(dOut, y0: y0, magnitude: state.magnitude, norms: state.norms, rows: dOut.count / o,
                                    outputs: o, dY0: &dY0, dMagnitude: &dm)
        g.m = dm
        gradients[path] = g
        return dY0
    }

    /// DoRA's initial magnitude: the frozen base weight's row norms. // (O)
    public func baseRowNorms(layer: Int, module: String) throws -> [Float] {
        guard layers.indices.contains(layer), let linear = layers[layer].linears[module] else {
            throw TrainingConfigError.invalid(key: "lora_parameters.keys", reason: "no linear layer 'model.layers.\(layer).\(module)'")
        }
        var weights = LoRAWeights(layer: layer, module: module, inputs: linear.inputs, outputs: linear.outputs, rank: 1,
                                  a: [Float](repeating: 0, count: linear.inputs), b: [Float](repeating: 0, count: linear.outputs))
        weights.initializeMagnitude(from: linear.weight)
        return weights.magnitude!
    }
}
