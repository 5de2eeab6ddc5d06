import Foundation
import LEMEngine

// One transformer block of the fast trainer, forward (optionally recording what its backward
// reads) and backward down to the LoRA matrices. The same arithmetic as
// TrainableTransformer+Backward.swift, over N = B·T rows at once.
// Legend: B batch rows, T tokens per row, N = B·T, C hidden, H/K query/key-value heads,
// D head dim, F feed-forward size, R LoRA rank, I/O a linear layer's input/output size.

extension LoRATransformer {
    /// Adapter matrices keyed by `model.layers.N.<module>`, plus the shared scale and dropout.
    struct AdapterView {
        var matrices: [String: (a: [Float], b: [Float], rank: Int)]
        var scale: Float
        var dropout: LoRADropout?
        /// DoRA layers' magnitudes and row norms (LoRATransformer+DoRA.swift).
        var dora: [String: DoRAState<Float>] = [:]

        init(_ adapter: LoRAAdapter, dropout: LoRADropout?) {
            matrices = [:]
            for w in adapter.weights { matrices[w.modulePath] = (w.a, w.b, w.rank) }
            scale = Float(adapter.parameters.scale)
            self.dropout = dropout.flatMap { $0.probability > 0 ? $0 : nil }
        }
    }

    /// The shape of one batched forward: B rows of T tokens.
    struct Geometry {
        var batch: Int
        var tokens: Int
        var rows: Int { batch * tokens }
        /// Each row's positions 0 ..< T, repeated B times. // (N)
        var positions: [Int]
    }

    /// The activations of one block that its backward reads.
    struct BlockRecord {
        var input: [Float] = []  // (N, C)
        var n1: [Float] = []  // (N, C)
        var queryPreNorm: [Float] = [], keyPreNorm: [Float] = []  // (N, H|K, D), Gemma 3
        var query: [Float] = [], key: [Float] = [], value: [Float] = []  // (N, H|K, D), after norm and RoPE
        var probabilities: [Float] = []  // (B, H, T, T)
        var attention: [Float] = []  // (N, H·D)
        var attentionOut: [Float] = []  // (N, C)
        var h: [Float] = []  // (N, C)
        var n2: [Float] = []  // (N, C)
        var gate: [Float] = [], up: [Float] = [], act: [Float] = []  // (N, F)
        var down: [Float] = []  // (N, C)
        var lowRank: [String: [Float]] = [:]  // module → (N, R)
        var dropoutMasks: [String: [Float]] = [:]  // module → (N, I)
        var doraOutputs: [String: [Float]] = [:]  // DoRA module → y0 (N, O)
    }

    func norm(_ x: [Float], _ w: [Float], rows: Int, columns: Int) -> [Float] {
        var y = [Float](repeating: 0, count: x.count)
        Kernels.rmsNormForward(x, weight: w, weightOffset: normOffset, eps: Float(config.rmsNormEps), rows: rows,
                               columns: columns, into: &y)
        return y
    }

    func normBackward(_ dy: [Float], _ x: [Float], _ w: [Float], rows: Int, columns: Int, into dx: inout [Float]) {
        Kernels.rmsNormBackward(dy, input: x, weight: w, weightOffset: normOffset, eps: Float(config.rmsNormEps),
                                rows: rows, columns: columns, dx: &dx, dWeight: nil)
    }

    /// Block `index` forward over `x`; records its activations when `record` is non-nil.
    func blockForward(_ index: Int, _ x: [Float], geometry g: Geometry, view: AdapterView,
                      record: inout BlockRecord?) -> [Float] {
        let layer = layers[index], n = g.rows, c = config.hiddenSize
        let heads = config.numAttentionHeads, kvHeads = config.numKeyValueHeads, d = config.headDim
        var r = BlockRecord()
        let n1 = norm(x, layer.inputNorm, rows: n, columns: c)
        var q = linear(index, "self_attn.q_proj", n1, rows: n, view: view, record: &r)
        var k = linear(index, "self_attn.k_proj", n1, rows: n, view: view, record: &r)
        let v = linear(index, "self_attn.v_proj", n1, rows: n, view: view, record: &r)
        if let qn = layer.queryNorm, let kn = layer.keyNorm {
            if record != nil {
                r.queryPreNorm = q
                r.keyPreNorm = k
            }
            q = norm(q, qn, rows: n * heads, columns: d)
            k = norm(k, kn, rows: n * kvHeads, columns: d)
        }
        Kernels.ropeForward(&q, tokens: n, heads: heads, headDim: d, positions: g.positions, inverseFrequencies: layer.inverseFrequencies)
        Kernels.ropeForward(&k, tokens: n, heads: kvHeads, headDim: d, positions: g.positions, inverseFrequencies: layer.inverseFrequencies)
        var attention = [Float](repeating: 0, count: n * heads * d)
        var probabilities = [Float](repeating: 0, count: g.batch * heads * g.tokens * g.tokens)
        Kernels.batchedAttentionForward(query: q, key: k, value: v, batch: g.batch, tokens: g.tokens, heads: heads,
                                        kvHeads: kvHeads, headDim: d, scale: attentionScale, window: layer.window,
                                        output: &attention, probabilities: &probabilities, options: options)
        let attentionOut = linear(index, "self_attn.o_proj", attention, rows: n, view: view, record: &r)
        let residual = gemma ? norm(attentionOut, layer.postAttentionNorm, rows: n, columns: c) : attentionOut
        var h = x
        for i in h.indices { h[i] += residual[i] }
        let n2 = norm(h, layer.preFeedforwardNorm ?? layer.postAttentionNorm, rows: n, columns: c)
        let gate = linear(index, "mlp.gate_proj", n2, rows: n, view: view, record: &r)
        let up = linear(index, "mlp.up_proj", n2, rows: n, view: view, record: &r)
        let act = gatedActivation(gate, up)
        let down = linear(index, "mlp.down_proj", act, rows: n, view: view, record: &r)
        let mlpOut = layer.postFeedforwardNorm.map { norm(down, $0, rows: n, columns: c) } ?? down
        var out = h
        for i in out.indices { out[i] += mlpOut[i] }
        if record != nil {
            r.input = x
            r.n1 = n1
            r.query = q
            r.key = k
            r.value = v
            r.probabilities = probabilities
            r.attention = attention
            r.attentionOut = attentionOut
            r.h = h
            r.n2 = n2
            r.gate = gate
            r.up = up
            r.act = act
            r.down = down
            record = r
        }
        return out
    }

    /// Block `index` backward: the gradient of the block input from that of its output (empty
    /// when `inputGradient` is false), adding into the adapter gradients.
    func blockBackward(_ index: Int, _ dOutput: [Float], record r: BlockRecord, geometry g: Geometry, view: AdapterView,
                       inputGradient: Bool = true, gradients: inout [String: LoRAGradient<Float>]) -> [Float] {
        let layer = layers[index], n = g.rows, c = config.hiddenSize, f = config.intermediateSize
        let heads = config.numAttentionHeads, kvHeads = config.numKeyValueHeads, d = config.headDim
        func zeros(_ count: Int) -> [Float] { [Float](repeating: 0, count: count) }
        var dh = dOutput
        var dDown = dOutput
        if let w = layer.postFeedforwardNorm {
            dDown = zeros(n * c)
            normBackward(dOutput, r.down, w, rows: n, columns: c, into: &dDown)
        }
        var dAct = zeros(n * f)
        linearBackward(index, "mlp.down_proj", dDown, input: r.act, rows: n, view: view, record: r, dx: &dAct, gradients: &gradients)
        var (dGate, dUp) = gatedActivationBackward(dAct, gate: r.gate, up: r.up)
        dAct = []
        var dN2 = zeros(n * c)
        linearBackward(index, "mlp.gate_proj", dGate, input: r.n2, rows: n, view: view, record: r, dx: &dN2, gradients: &gradients)
        linearBackward(index, "mlp.up_proj", dUp, input: r.n2, rows: n, view: view, record: r, dx: &dN2, gradients: &gradients)
        dGate = []
        dUp = []
        normBackward(dN2, r.h, layer.preFeedforwardNorm ?? layer.postAttentionNorm, rows: n, columns: c, into: &dh)
        var dOut = dh
        if gemma {
            dOut = zeros(n * c)
            normBackward(dh, r.attentionOut, layer.postAttentionNorm, rows: n, columns: c, into: &dOut)
        }
        var dx = dh
        var dAttention = zeros(n * heads * d)
        linearBackward(index, "self_attn.o_proj", dOut, input: r.attention, rows: n, view: view, record: r,
                       dx: &dAttention, gradients: &gradients)
        var dq = zeros(n * heads * d), dk = zeros(n * kvHeads * d), dv = zeros(n * kvHeads * d)
        Kernels.batchedAttentionBackward(dAttention, query: r.query, key: r.key, value: r.value, probabilities: r.probabilities,
                                         batch: g.batch, tokens: g.tokens, heads: heads, kvHeads: kvHeads, headDim: d,
                                         scale: attentionScale, dQuery: &dq, dKey: &dk, dValue: &dv, options: options)
        Kernels.ropeBackward(&dq, tokens: n, heads: heads, headDim: d, positions: g.positions, inverseFrequencies: layer.inverseFrequencies)
        Kernels.ropeBackward(&dk, tokens: n, heads: kvHeads, headDim: d, positions: g.positions, inverseFrequencies: layer.inverseFrequencies)
        if let qn = layer.queryNorm, let kn = layer.keyNorm {
            var dqPre = zeros(dq.count), dkPre = zeros(dk.count)
            normBackward(dq, r.queryPreNorm, qn, rows: n * heads, columns: d, into: &dqPre)
            normBackward(dk, r.keyPreNorm, kn, rows: n * kvHeads, columns: d, into: &dkPre)
            dq = dqPre
            dk = dkPre
        }
        var dN1 = inputGradient ? zeros(n * c) : []
        for (module, dy) in [("self_attn.q_proj", dq), ("self_attn.k_proj", dk), ("self_attn.v_proj", dv)] {
            linearBackward(index, module, dy, input: r.n1, rows: n, view: view, record: r, inputGradient: inputGradient,
                           dx: &dN1, gradients: &gradients)
        }
        guard inputGradient else { return [] }
        normBackward(dN1, r.input, layer.inputNorm, rows: n, columns: c, into: &dx)
        return dx
    }

    /// `activation(gate) ⊙ up`, its halves on two threads.
    func gatedActivation(_ gate: [Float], _ up: [Float]) -> [Float] {  // (N, F) each
        let activation = self.activation
        var act = [Float](repeating: 0, count: gate.count)  // (N, F)
        gate.withUnsafeBufferPointer { g in
            up.withUnsafeBufferPointer { u in
                act.withUnsafeMutableBufferPointer { a in
                    let g = UnsafeSendablePointer(g), u = UnsafeSendablePointer(u), a = UnsafeSendablePointer(a)
                    inHalves(gate.count) { range in
                        let o = range.lowerBound
                        Kernels.gatedActivationForwardF32(activation, gate: g.pointer + o, up: u.pointer + o, count: range.count,
                                                       into: a.pointer + o)
                    }
                }
            }
        }
        return act
    }

    /// Backward of `gatedActivation`: the gradients of `gate` and `up`, halves on two threads.
    func gatedActivationBackward(_ dAct: [Float], gate: [Float], up: [Float]) -> (dGate: [Float], dUp: [Float]) {
        let activation = self.activation
        var dGate = [Float](repeating: 0, count: gate.count), dUp = dGate  // (N, F)
        dAct.withUnsafeBufferPointer { d in
            gate.withUnsafeBufferPointer { g in
                up.withUnsafeBufferPointer { u in
                    dGate.withUnsafeMutableBufferPointer { dg in
                        dUp.withUnsafeMutableBufferPointer { du in
                            let d = UnsafeSendablePointer(d), g = UnsafeSendablePointer(g), u = UnsafeSendablePointer(u)
                            let dg = UnsafeSendablePointer(dg), du = UnsafeSendablePointer(du)
                            inHalves(gate.count) { range in
                                let o = range.lowerBound
                                Kernels.gatedActivationBackwardF32(activation, d.pointer + o, gate: g.pointer + o, up: u.pointer + o,
                                                                count: range.count, dGate: dg.pointer + o, dUp: du.pointer + o)
                            }
                        }
                    }
                }
            }
        }
        return (dGate, dUp)
    }

    /// A block's linear layer, LoRA-adapted when the adapter covers it; records `(x ⊙ mask) A`
    /// and the dropout mask.
    func linear(_ index: Int, _ module: String, _ x: [Float], rows n: Int, view: AdapterView,
                record: inout BlockRecord) -> [Float] {
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
        sgemm(m: n, n: w.outputs, k: lora.rank, alpha: view.scale, xa, lda: lora.rank, lora.b, ldb: w.outputs, beta: 1,
              &y, ldc: w.outputs)
        if let dora = view.dora["model.layers.\(index).\(module)"] {
            doraForward(&y, state: dora, bias: w.bias, module: module, record: &record)
        }
        record.lowRank[module] = xa
        return y
    }

    /// Backward of `linear`: adds into `dx` (unless `inputGradient` is false) and, for adapted
    /// layers, into the LoRA (and DoRA magnitude) gradients.
    func linearBackward(_ index: Int, _ module: String, _ dOut: [Float], input x: [Float], rows n: Int, view: AdapterView,
                        record: BlockRecord, inputGradient: Bool = true, dx: inout [Float],
                        gradients: inout [String: LoRAGradient<Float>]) {
        let w = layers[index].linears[module]!
        let path = "model.layers.\(index).\(module)"
        let dy = doraBackward(dOut, path: path, module: module, view: view, record: record, gradients: &gradients)
        if inputGradient { w.backwardInput(dy, rows: n, into: &dx, scratch: scratch) }
        guard let lora = view.matrices[path], var g = gradients[path], let xa = record.lowRank[module] else { return }
        let rank = lora.rank, i = w.inputs, o = w.outputs
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
}
