import Foundation
import LEMEngine

// The fast model's side of a block (the block itself is LoRADecoder+Block.swift): linear layers
// over frozen stored weights with the LoRA path in sgemm and seeded dropout, batched attention,
// the eight-lane gated activation on two threads, DoRA's row norms a decoded tile at a time.
// Legend: B batch rows, T tokens per row, N = B·T, H/K query/key-value heads, D head dim,
// F feed-forward size, R LoRA rank, I/O a linear layer's input/output size, t rows of one tile.

extension FrozenLinear: BlockLinear {
    typealias Scalar = Float
}

extension LoRATransformer: LoRADecoder {
    /// A block's frozen linear layer plus the LoRA path when the adapter covers it; records
    /// `(x ⊙ mask) A` and the dropout mask.
    func loraLinear(
        _ index: Int, _ module: String, _ x: [Float], rows n: Int, view: AdapterView<Float>,
        record: inout BlockRecord<Float>
    ) -> [Float] {
        let w = layers[index].linears[module]!
        var y = [Float](repeating: 0, count: n * w.outputs)
        w.forward(x, rows: n, into: &y, scratch: scratch)
        guard let lora = view.matrices["model.layers.\(index).\(module)"] else { return y }
        var xa = [Float](repeating: 0, count: n * lora.rank)  // (N, R)
        if let dropout = view.dropout {
            let mask = dropout.mask(layer: index, module: module, count: x.count)  // (N, I)
            var dropped = x
            for i in dropped.indices { dropped[i] *= mask[i] }
            sgemm(m: n, n: lora.rank, k: w.inputs, dropped, lda: w.inputs, lora.a, ldb: lora.rank, &xa, ldc: lora.rank)
            record.dropoutMasks[module] = mask
        } else {
            sgemm(m: n, n: lora.rank, k: w.inputs, x, lda: w.inputs, lora.a, ldb: lora.rank, &xa, ldc: lora.rank)
        }
        // y += scale · xa (N, R) · B (R, O)
        sgemm(
            m: n, n: w.outputs, k: lora.rank, alpha: view.scale, xa, lda: lora.rank, lora.b, ldb: w.outputs, beta: 1,
            &y, ldc: w.outputs)
        record.lowRank[module] = xa
        return y
    }

    /// Backward of `loraLinear`: adds into `dx` (unless `inputGradient` is false) and, for
    /// adapted layers, into the LoRA gradients.
    func loraLinearBackward(
        _ index: Int, _ module: String, _ dy: [Float], input x: [Float], rows n: Int,
        view: AdapterView<Float>, record: BlockRecord<Float>, inputGradient: Bool,
        dx: inout [Float], gradients: inout [String: LoRAGradient<Float>]
    ) {
        let w = layers[index].linears[module]!
        let path = "model.layers.\(index).\(module)"
        if inputGradient { w.backwardInput(dy, rows: n, into: &dx, scratch: scratch) }
        guard let lora = view.matrices[path], var g = gradients[path], let xa = record.lowRank[module] else { return }
        let rank = lora.rank
        let i = w.inputs
        let o = w.outputs
        gradients[path] = nil  // keep `g` uniquely referenced while it is written
        // dB (R, O) += scale · xaᵀ (R, N) · dy (N, O)
        sgemm(transA: true, m: rank, n: o, k: n, alpha: view.scale, xa, lda: rank, dy, ldb: o, beta: 1, &g.b, ldc: o)
        // dxa (N, R) = scale · dy (N, O) · Bᵀ
        var dxa = [Float](repeating: 0, count: n * rank)
        sgemm(transB: true, m: n, n: rank, k: o, alpha: view.scale, dy, lda: o, lora.b, ldb: o, &dxa, ldc: rank)
        if let mask = record.dropoutMasks[module] {
            var dropped = x
            for j in dropped.indices { dropped[j] *= mask[j] }
            // dA (I, R) += (x ⊙ mask)ᵀ · dxa ; dx += (dxa · Aᵀ) ⊙ mask
            sgemm(transA: true, m: i, n: rank, k: n, dropped, lda: i, dxa, ldb: rank, beta: 1, &g.a, ldc: rank)
            if inputGradient {
                var dDropped = [Float](repeating: 0, count: n * i)
                sgemm(transB: true, m: n, n: i, k: rank, dxa, lda: rank, lora.a, ldb: rank, &dDropped, ldc: i)
                for j in dx.indices { dx[j] += dDropped[j] * mask[j] }
            }
        } else {
            sgemm(transA: true, m: i, n: rank, k: n, x, lda: i, dxa, ldb: rank, beta: 1, &g.a, ldc: rank)
            if inputGradient {
                sgemm(transB: true, m: n, n: i, k: rank, dxa, lda: rank, lora.a, ldb: rank, beta: 1, &dx, ldc: i)
            }
        }
        gradients[path] = g
    }

    /// Every batch row's causal attention, (row, head) pairs shared out between threads.
    func attention(
        query: [Float], key: [Float], value: [Float], geometry g: BatchGeometry, window: Int?,
        output: inout [Float], probabilities: inout [Float]
    ) {
        Kernels.batchedAttentionForward(
            query: query, key: key, value: value, batch: g.batch, tokens: g.tokens,
            heads: config.numAttentionHeads, kvHeads: config.numKeyValueHeads,
            headDim: config.headDim, scale: attentionScale, window: window, output: &output,
            probabilities: &probabilities, options: options)
    }

    /// Backward of `attention` from the saved probabilities (zero outside the mask, so the
    /// window is not needed again).
    func attentionBackward(
        _ dOutput: [Float], record r: BlockRecord<Float>, geometry g: BatchGeometry, window: Int?,
        dQuery: inout [Float], dKey: inout [Float], dValue: inout [Float]
    ) {
        Kernels.batchedAttentionBackward(
            dOutput, query: r.query, key: r.key, value: r.value, probabilities: r.probabilities,
            batch: g.batch, tokens: g.tokens, heads: config.numAttentionHeads,
            kvHeads: config.numKeyValueHeads, headDim: config.headDim,
            scale: attentionScale, dQuery: &dQuery, dKey: &dKey, dValue: &dValue,
            options: options)
    }

    /// `activation(gate) ⊙ up`, its halves on two threads.
    func gatedActivation(_ gate: [Float], _ up: [Float]) -> [Float] {  // (N, F) each
        let activation = self.activation
        return elementwiseInHalves(gate.count, inputs: [gate, up], outputs: 1) { s, range in
            let o = range.lowerBound
            Kernels.gatedActivationForwardF32(
                activation, gate: s.inputs[0] + o, up: s.inputs[1] + o, count: range.count, into: s.outputs[0] + o)
        }[0]
    }

    /// Backward of `gatedActivation`: the gradients of `gate` and `up`, halves on two threads.
    func gatedActivationBackward(_ dAct: [Float], gate: [Float], up: [Float]) -> (dGate: [Float], dUp: [Float]) {
        let activation = self.activation
        let grads = elementwiseInHalves(gate.count, inputs: [dAct, gate, up], outputs: 2) { s, range in
            let o = range.lowerBound
            Kernels.gatedActivationBackwardF32(
                activation, s.inputs[0] + o, gate: s.inputs[1] + o, up: s.inputs[2] + o, count: range.count,
                dGate: s.outputs[0] + o, dUp: s.outputs[1] + o)
        }
        return (grads[0], grads[1])
    }
}
