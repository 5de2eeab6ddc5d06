import LEMEngine

// One transformer block forward (optionally recording what its backward reads) and backward
// down to the LoRA matrices, written once for both trainer models over N = B·T rows; the
// operations each model computes its own way are `LoRADecoder`'s requirements.
// Legend: B batch rows, T tokens per row, N = B·T, C hidden, H/K query/key-value heads,
// D head dim, F feed-forward size.

extension LoRADecoder {
    /// Hidden size, query heads, key/value heads and head dimension.
    var sizes: (hidden: Int, heads: Int, kvHeads: Int, headDim: Int) {
        (config.hiddenSize, config.numAttentionHeads, config.numKeyValueHeads, config.headDim)
    }

    /// RoPE on a block's queries and keys in place; `backward`: its gradient, from theirs.
    func rotate(
        _ q: inout [Scalar], _ k: inout [Scalar], layer: DecoderBlock<Scalar, Linear>, geometry g: BatchGeometry,
        backward: Bool
    ) {
        let (_, heads, kvHeads, d) = sizes
        func apply(_ x: inout [Scalar], heads: Int) {
            if backward {
                Kernels.ropeBackward(
                    &x, tokens: g.rows, heads: heads, headDim: d, positions: g.positions,
                    inverseFrequencies: layer.inverseFrequencies)
            } else {
                Kernels.ropeForward(
                    &x, tokens: g.rows, heads: heads, headDim: d, positions: g.positions,
                    inverseFrequencies: layer.inverseFrequencies)
            }
        }
        apply(&q, heads: heads)
        apply(&k, heads: kvHeads)
    }

    /// RMS normalisation of `rows` rows in the model's norm convention.
    func norm(_ x: [Scalar], _ w: [Scalar], rows: Int, columns: Int) -> [Scalar] {
        var y = [Scalar](repeating: 0, count: x.count)
        Kernels.rmsNormForward(
            x, weight: w, weightOffset: normOffset, eps: Scalar(config.rmsNormEps), rows: rows,
            columns: columns, into: &y)
        return y
    }

    /// Backward of `norm`: adds the input gradient into `dx` (the norm weights are frozen).
    func normBackward(_ dy: [Scalar], _ x: [Scalar], _ w: [Scalar], rows: Int, columns: Int, into dx: inout [Scalar]) {
        Kernels.rmsNormBackward(
            dy, input: x, weight: w, weightOffset: normOffset, eps: Scalar(config.rmsNormEps),
            rows: rows, columns: columns, dx: &dx, dWeight: nil)
    }

    /// A block's linear layer: `loraLinear`, then DoRA's rescale for a DoRA layer (recording y0).
    func linear(
        _ index: Int, _ module: String, _ x: [Scalar], rows: Int, view: AdapterView<Scalar>,
        record: inout BlockRecord<Scalar>
    ) -> [Scalar] {
        var y = loraLinear(index, module, x, rows: rows, view: view, record: &record)
        if let dora = view.dora["model.layers.\(index).\(module)"] {
            record.doraOutputs[module] = dora.forward(&y, bias: layers[index].linears[module]!.bias)
        }
        return y
    }

    /// Backward of `linear`: for a DoRA layer the rescale's backward first (adding `dm` into the
    /// layer's gradient), then `loraLinearBackward`.
    func linearBackward(
        _ index: Int, _ module: String, _ dOut: [Scalar], input x: [Scalar], rows: Int,
        view: AdapterView<Scalar>, record: BlockRecord<Scalar>, inputGradient: Bool = true,
        dx: inout [Scalar], gradients: inout [String: LoRAGradient<Scalar>]
    ) {
        let path = "model.layers.\(index).\(module)"
        var dy = dOut
        if let dora = view.dora[path], let y0 = record.doraOutputs[module], var g = gradients[path] {
            gradients[path] = nil  // keep `g` uniquely referenced while it is written
            var dm = g.m ?? [Scalar](repeating: 0, count: dora.outputs)  // (O)
            dy = dora.backward(dOut, y0: y0, dMagnitude: &dm)
            g.m = dm
            gradients[path] = g
        }
        loraLinearBackward(
            index, module, dy, input: x, rows: rows, view: view, record: record,
            inputGradient: inputGradient, dx: &dx, gradients: &gradients)
    }

    /// Block `index` forward over `x`; records its activations when `record` is non-nil.
    func blockForward(
        _ index: Int, _ x: [Scalar], geometry g: BatchGeometry, view: AdapterView<Scalar>,
        record: inout BlockRecord<Scalar>?
    ) -> [Scalar] {
        let layer = layers[index]
        let n = g.rows
        let (c, heads, kvHeads, d) = sizes
        var r = BlockRecord<Scalar>()
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
        rotate(&q, &k, layer: layer, geometry: g, backward: false)
        var attention = [Scalar](repeating: 0, count: n * heads * d)  // (N, H·D)
        var probabilities = [Scalar](repeating: 0, count: g.batch * heads * g.tokens * g.tokens)  // (B, H, T, T)
        self.attention(
            query: q, key: k, value: v, geometry: g, window: layer.window, output: &attention,
            probabilities: &probabilities)
        let attentionOut = linear(index, "self_attn.o_proj", attention, rows: n, view: view, record: &r)
        let residual = layer.attentionOutputNorm.map { norm(attentionOut, $0, rows: n, columns: c) } ?? attentionOut
        var h = x
        for i in h.indices { h[i] += residual[i] }
        let n2 = norm(h, layer.mlpInputNorm, rows: n, columns: c)
        let gate = linear(index, "mlp.gate_proj", n2, rows: n, view: view, record: &r)
        let up = linear(index, "mlp.up_proj", n2, rows: n, view: view, record: &r)
        let act = gatedActivation(gate, up)
        let down = linear(index, "mlp.down_proj", act, rows: n, view: view, record: &r)
        let mlpOut = layer.mlpOutputNorm.map { norm(down, $0, rows: n, columns: c) } ?? down
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
    func blockBackward(
        _ index: Int, _ dOutput: [Scalar], record r: BlockRecord<Scalar>, geometry g: BatchGeometry,
        view: AdapterView<Scalar>, inputGradient: Bool = true,
        gradients: inout [String: LoRAGradient<Scalar>]
    ) -> [Scalar] {
        let layer = layers[index]
        let n = g.rows
        let (c, heads, kvHeads, d) = sizes
        let f = config.intermediateSize
        func zeros(_ count: Int) -> [Scalar] { [Scalar](repeating: 0, count: count) }
        var dh = dOutput
        var dDown = dOutput
        if let w = layer.mlpOutputNorm {
            dDown = zeros(n * c)
            normBackward(dOutput, r.down, w, rows: n, columns: c, into: &dDown)
        }
        var dAct = zeros(n * f)
        linearBackward(
            index, "mlp.down_proj", dDown, input: r.act, rows: n, view: view, record: r, dx: &dAct,
            gradients: &gradients)
        var (dGate, dUp) = gatedActivationBackward(dAct, gate: r.gate, up: r.up)
        dAct = []
        var dN2 = zeros(n * c)
        linearBackward(
            index, "mlp.gate_proj", dGate, input: r.n2, rows: n, view: view, record: r, dx: &dN2,
            gradients: &gradients)
        linearBackward(
            index, "mlp.up_proj", dUp, input: r.n2, rows: n, view: view, record: r, dx: &dN2,
            gradients: &gradients)
        dGate = []
        dUp = []
        normBackward(dN2, r.h, layer.mlpInputNorm, rows: n, columns: c, into: &dh)
        var dOut = dh
        if let w = layer.attentionOutputNorm {
            dOut = zeros(n * c)
            normBackward(dh, r.attentionOut, w, rows: n, columns: c, into: &dOut)
        }
        var dx = dh
        var dAttention = zeros(n * heads * d)
        linearBackward(
            index, "self_attn.o_proj", dOut, input: r.attention, rows: n, view: view, record: r,
            dx: &dAttention, gradients: &gradients)
        var dq = zeros(n * heads * d)
        var dk = zeros(n * kvHeads * d)
        var dv = zeros(n * kvHeads * d)
        attentionBackward(dAttention, record: r, geometry: g, window: layer.window, dQuery: &dq, dKey: &dk, dValue: &dv)
        rotate(&dq, &dk, layer: layer, geometry: g, backward: true)
        if let qn = layer.queryNorm, let kn = layer.keyNorm {
            var dqPre = zeros(dq.count)
            var dkPre = zeros(dk.count)
            normBackward(dq, r.queryPreNorm, qn, rows: n * heads, columns: d, into: &dqPre)
            normBackward(dk, r.keyPreNorm, kn, rows: n * kvHeads, columns: d, into: &dkPre)
            dq = dqPre
            dk = dkPre
        }
        var dN1 = inputGradient ? zeros(n * c) : []
        for (module, dy) in [("self_attn.q_proj", dq), ("self_attn.k_proj", dk), ("self_attn.v_proj", dv)] {
            linearBackward(
                index, module, dy, input: r.n1, rows: n, view: view, record: r, inputGradient: inputGradient,
                dx: &dN1, gradients: &gradients)
        }
        guard inputGradient else { return [] }
        normBackward(dN1, r.input, layer.inputNorm, rows: n, columns: c, into: &dx)
        return dx
    }
}
