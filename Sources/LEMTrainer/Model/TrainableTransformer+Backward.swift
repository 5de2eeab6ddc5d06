import LEMEngine

// The forward pass that records activations, and the backward pass through every block to the
// LoRA matrices. Legend: n tokens of one sequence, C hidden, H/K query/key-value heads, D head
// dim, F feed-forward size, V vocabulary, R LoRA rank.

/// The gradient of one adapted layer's `lora_a` and `lora_b`.
public struct LoRAGradient<T: TrainingScalar>: Sendable {
    public var a: [T]  // (I, R)
    public var b: [T]  // (R, O)
    /// DoRA: the gradient of the magnitude `m`, nil for LoRA. // (O)
    public var m: [T]? = nil
}

extension TrainableTransformer {
    /// Adapter matrices converted to `T`, keyed by `model.layers.N.<module>`.
    struct AdapterView {
        var matrices: [String: (a: [T], b: [T], rank: Int)]
        var scale: T
        /// DoRA layers' magnitudes and row norms (TrainableTransformer+DoRA.swift).
        var dora: [String: DoRAState<T>] = [:]

        init(_ adapter: LoRAAdapter) {
            matrices = [:]
            for w in adapter.weights { matrices[w.modulePath] = (w.a.map { T($0) }, w.b.map { T($0) }, w.rank) }
            scale = T(adapter.parameters.scale)
        }
    }

    /// The activations of one block that its backward reads.
    struct BlockRecord {
        var input: [T] = []  // (n, C)
        var n1: [T] = []  // (n, C)
        var queryPreNorm: [T] = [], keyPreNorm: [T] = []  // (n, H|K, D), Gemma 3
        var query: [T] = [], key: [T] = [], value: [T] = []  // (n, H|K, D), after norm and RoPE
        var probabilities: [T] = []  // (H, n, n)
        var attention: [T] = []  // (n, H·D)
        var attentionOut: [T] = []  // (n, C)
        var h: [T] = []  // (n, C)
        var n2: [T] = []  // (n, C)
        var gate: [T] = [], up: [T] = [], act: [T] = []  // (n, F)
        var down: [T] = []  // (n, C)
        var lowRank: [String: [T]] = [:]  // module → (n, R)
        var doraOutputs: [String: [T]] = [:]  // DoRA module → y0 (n, O)
    }

    /// The mlx_lm loss of a batch and its gradient with respect to every adapter matrix.
    ///
    /// Loss = Σ cross-entropy over the batch's unmasked targets ÷ their count (mlx_lm's
    /// `default_loss`); `mask` picks the exact targets or mlx_lm's extra padding target. Each
    /// row is run up to its last unmasked target (later positions cannot change the loss under a
    /// causal mask). Dropout is not applied. With `computeGradients` false only the forward runs
    /// (validation) and the gradients are all zero.
    public func lossAndGradients(batch: TrainingBatch, mask kind: TrainingBatch.TargetMask = .exact,
                                 adapter: LoRAAdapter, computeGradients: Bool = true)
        -> (loss: Double, tokens: Double, gradients: [String: LoRAGradient<T>])
    {
        var view = AdapterView(adapter)
        view.dora = doraStates(adapter)
        var gradients: [String: LoRAGradient<T>] = [:]
        for w in adapter.weights { gradients[w.modulePath] = .zeros(for: w) }
        let positions = batch.width - 1
        let mask = batch.targetMask(kind)
        let count = Double(mask.reduce(0, +))
        guard count > 0 else { return (0, 0, gradients) }
        var lossSum = 0.0
        for row in 0 ..< batch.batchSize {
            let rowMask = mask[row * positions ..< (row + 1) * positions]
            guard let last = rowMask.lastIndex(where: { $0 != 0 }) else { continue }
            let n = last - row * positions + 1
            let start = row * batch.width
            lossSum += sequence(inputs: Array(batch.tokens[start ..< start + n]),
                                targets: Array(batch.tokens[start + 1 ..< start + n + 1]),
                                mask: rowMask.prefix(n).map { T($0) }, normalizer: count, view: view,
                                backward: computeGradients, gradients: &gradients)
        }
        return (lossSum / count, count, gradients)
    }

    /// Forward and backward of one sequence; returns its loss sum and adds its gradients.
    func sequence(inputs: [Int], targets: [Int], mask: [T], normalizer: Double, view: AdapterView, backward: Bool,
                  gradients: inout [String: LoRAGradient<T>]) -> Double {
        let n = inputs.count, c = config.hiddenSize, v = config.vocabSize
        let heads = config.numAttentionHeads, kvHeads = config.numKeyValueHeads, d = config.headDim
        let f = config.intermediateSize, eps = T(config.rmsNormEps), gemma = family == .gemma3
        let positions = Array(0 ..< n)
        func zeros(_ count: Int) -> [T] { [T](repeating: 0, count: count) }
        func norm(_ x: [T], _ w: [T], rows: Int, columns: Int) -> [T] {
            var y = zeros(x.count)
            Kernels.rmsNormForward(x, weight: w, weightOffset: normOffset, eps: eps, rows: rows, columns: columns, into: &y)
            return y
        }
        func normBack(_ dy: [T], _ x: [T], _ w: [T], rows: Int, columns: Int, into dx: inout [T]) {
            Kernels.rmsNormBackward(dy, input: x, weight: w, weightOffset: normOffset, eps: eps, rows: rows, columns: columns,
                                    dx: &dx, dWeight: nil)
        }

        // Forward.
        var x = zeros(n * c)  // (n, C)
        Kernels.embeddingForward(tokens: inputs, table: embedding, scale: embeddingScale, rows: n, columns: c, into: &x)
        var records: [BlockRecord] = []
        for (index, layer) in layers.enumerated() {
            var r = BlockRecord()
            r.input = x
            r.n1 = norm(x, layer.inputNorm, rows: n, columns: c)
            var q = linear(index, "self_attn.q_proj", r.n1, rows: n, view: view, record: &r)
            var k = linear(index, "self_attn.k_proj", r.n1, rows: n, view: view, record: &r)
            r.value = linear(index, "self_attn.v_proj", r.n1, rows: n, view: view, record: &r)
            if let qn = layer.queryNorm, let kn = layer.keyNorm {
                r.queryPreNorm = q
                r.keyPreNorm = k
                q = norm(q, qn, rows: n * heads, columns: d)
                k = norm(k, kn, rows: n * kvHeads, columns: d)
            }
            Kernels.ropeForward(&q, tokens: n, heads: heads, headDim: d, positions: positions, inverseFrequencies: layer.inverseFrequencies)
            Kernels.ropeForward(&k, tokens: n, heads: kvHeads, headDim: d, positions: positions, inverseFrequencies: layer.inverseFrequencies)
            r.query = q
            r.key = k
            r.attention = zeros(n * heads * d)
            r.probabilities = zeros(heads * n * n)
            Kernels.attentionForward(query: q, key: k, value: r.value, tokens: n, heads: heads, kvHeads: kvHeads, headDim: d,
                                     scale: attentionScale, window: layer.window, output: &r.attention,
                                     probabilities: &r.probabilities)
            r.attentionOut = linear(index, "self_attn.o_proj", r.attention, rows: n, view: view, record: &r)
            let residual = gemma ? norm(r.attentionOut, layer.postAttentionNorm, rows: n, columns: c) : r.attentionOut
            r.h = zip(x, residual).map { $0 + $1 }
            r.n2 = norm(r.h, layer.preFeedforwardNorm ?? layer.postAttentionNorm, rows: n, columns: c)
            r.gate = linear(index, "mlp.gate_proj", r.n2, rows: n, view: view, record: &r)
            r.up = linear(index, "mlp.up_proj", r.n2, rows: n, view: view, record: &r)
            r.act = zeros(n * f)
            Kernels.gatedActivationForward(activation, gate: r.gate, up: r.up, count: n * f, into: &r.act)
            r.down = linear(index, "mlp.down_proj", r.act, rows: n, view: view, record: &r)
            let mlpOut = layer.postFeedforwardNorm.map { norm(r.down, $0, rows: n, columns: c) } ?? r.down
            x = zip(r.h, mlpOut).map { $0 + $1 }
            records.append(r)
        }
        let finalNormed = norm(x, finalNorm, rows: n, columns: c)
        let headWeight = head ?? embedding
        var logits = zeros(n * v)  // (n, V)
        Kernels.linearForward(finalNormed, weight: headWeight, bias: nil, rows: n, inputs: c, outputs: v, into: &logits)
        var capSlopes: [T] = []
        if let cap = config.finalLogitSoftcapping.map({ T($0) }) {
            capSlopes = logits.map { l in let t = T.hyperbolicTangent(l / cap); return 1 - t * t }
            logits = logits.map { cap * T.hyperbolicTangent($0 / cap) }
        }
        let loss = Kernels.crossEntropyForward(logits: logits, targets: targets, mask: mask, rows: n, vocabulary: v).lossSum
        guard backward else { return loss }

        // Backward.
        var dLogits = zeros(n * v)
        Kernels.crossEntropyBackward(logits: logits, targets: targets, mask: mask, rows: n, vocabulary: v,
                                     normalizer: normalizer, dLogits: &dLogits)
        if !capSlopes.isEmpty { dLogits = zip(dLogits, capSlopes).map { $0 * $1 } }
        var dFinal = zeros(n * c)
        Kernels.linearBackward(dLogits, input: finalNormed, weight: headWeight, rows: n, inputs: c, outputs: v,
                               dx: &dFinal, dWeight: nil, dBias: nil)
        var dx = zeros(n * c)
        normBack(dFinal, x, finalNorm, rows: n, columns: c, into: &dx)
        for index in layers.indices.reversed() {
            let layer = layers[index], r = records[index]
            var dh = dx
            var dDown = dx
            if let w = layer.postFeedforwardNorm {
                dDown = zeros(n * c)
                normBack(dx, r.down, w, rows: n, columns: c, into: &dDown)
            }
            var dAct = zeros(n * f)
            linearBackward(index, "mlp.down_proj", dDown, input: r.act, rows: n, view: view, record: r, dx: &dAct, gradients: &gradients)
            var dGate = zeros(n * f), dUp = zeros(n * f)
            Kernels.gatedActivationBackward(activation, dAct, gate: r.gate, up: r.up, count: n * f, dGate: &dGate, dUp: &dUp)
            var dN2 = zeros(n * c)
            linearBackward(index, "mlp.gate_proj", dGate, input: r.n2, rows: n, view: view, record: r, dx: &dN2, gradients: &gradients)
            linearBackward(index, "mlp.up_proj", dUp, input: r.n2, rows: n, view: view, record: r, dx: &dN2, gradients: &gradients)
            normBack(dN2, r.h, layer.preFeedforwardNorm ?? layer.postAttentionNorm, rows: n, columns: c, into: &dh)
            var dOut = dh
            if gemma {
                dOut = zeros(n * c)
                normBack(dh, r.attentionOut, layer.postAttentionNorm, rows: n, columns: c, into: &dOut)
            }
            dx = dh
            var dAttention = zeros(n * heads * d)
            linearBackward(index, "self_attn.o_proj", dOut, input: r.attention, rows: n, view: view, record: r,
                           dx: &dAttention, gradients: &gradients)
            var dq = zeros(n * heads * d), dk = zeros(n * kvHeads * d), dv = zeros(n * kvHeads * d)
            Kernels.attentionBackward(dAttention, query: r.query, key: r.key, value: r.value, probabilities: r.probabilities,
                                      tokens: n, heads: heads, kvHeads: kvHeads, headDim: d, scale: attentionScale,
                                      window: layer.window, dQuery: &dq, dKey: &dk, dValue: &dv)
            Kernels.ropeBackward(&dq, tokens: n, heads: heads, headDim: d, positions: positions, inverseFrequencies: layer.inverseFrequencies)
            Kernels.ropeBackward(&dk, tokens: n, heads: kvHeads, headDim: d, positions: positions, inverseFrequencies: layer.inverseFrequencies)
            if let qn = layer.queryNorm, let kn = layer.keyNorm {
                var dqPre = zeros(dq.count), dkPre = zeros(dk.count)
                normBack(dq, r.queryPreNorm, qn, rows: n * heads, columns: d, into: &dqPre)
                normBack(dk, r.keyPreNorm, kn, rows: n * kvHeads, columns: d, into: &dkPre)
                dq = dqPre
                dk = dkPre
            }
            var dN1 = zeros(n * c)
            linearBackward(index, "self_attn.q_proj", dq, input: r.n1, rows: n, view: view, record: r, dx: &dN1, gradients: &gradients)
            linearBackward(index, "self_attn.k_proj", dk, input: r.n1, rows: n, view: view, record: r, dx: &dN1, gradients: &gradients)
            linearBackward(index, "self_attn.v_proj", dv, input: r.n1, rows: n, view: view, record: r, dx: &dN1, gradients: &gradients)
            normBack(dN1, r.input, layer.inputNorm, rows: n, columns: c, into: &dx)
        }
        return loss
    }

    /// A block's linear layer, LoRA-adapted when the adapter covers it; records `x A`.
    func linear(_ index: Int, _ module: String, _ x: [T], rows: Int, view: AdapterView, record: inout BlockRecord) -> [T] {
        let w = layers[index].linears[module]!
        var y = [T](repeating: 0, count: rows * w.outputs)
        let path = "model.layers.\(index).\(module)"
        guard let lora = view.matrices[path] else {
            w.bias.withOptionalPointer { bias in
                Kernels.linearForward(x, weight: w.weight, bias: bias, rows: rows, inputs: w.inputs, outputs: w.outputs, into: &y)
            }
            return y
        }
        var xa = [T](repeating: 0, count: rows * lora.rank)
        w.bias.withOptionalPointer { bias in
            Kernels.loraLinearForward(x, weight: w.weight, bias: bias, loraA: lora.a, loraB: lora.b, scale: view.scale,
                                      dropoutMask: nil, rows: rows, inputs: w.inputs, outputs: w.outputs, rank: lora.rank,
                                      xa: &xa, into: &y)
        }
        if let dora = view.dora[path] { doraForward(&y, state: dora, bias: w.bias, module: module, record: &record) }
        record.lowRank[module] = xa
        return y
    }

    /// Backward of `linear`: adds into `dx` and, for adapted layers, into the LoRA gradients.
    func linearBackward(_ index: Int, _ module: String, _ dOut: [T], input x: [T], rows: Int, view: AdapterView,
                        record: BlockRecord, dx: inout [T], gradients: inout [String: LoRAGradient<T>]) {
        let w = layers[index].linears[module]!
        let path = "model.layers.\(index).\(module)"
        let dy = doraBackward(dOut, path: path, module: module, view: view, record: record, gradients: &gradients)
        guard let lora = view.matrices[path], var g = gradients[path], let xa = record.lowRank[module] else {
            Kernels.linearBackward(dy, input: x, weight: w.weight, rows: rows, inputs: w.inputs, outputs: w.outputs,
                                   dx: &dx, dWeight: nil, dBias: nil)
            return
        }
        Kernels.loraLinearBackward(dy, input: x, weight: w.weight, loraA: lora.a, loraB: lora.b, scale: view.scale,
                                   dropoutMask: nil, xa: xa, rows: rows, inputs: w.inputs, outputs: w.outputs, rank: lora.rank,
                                   dx: &dx, dA: &g.a, dB: &g.b)
        gradients[path] = g
    }
}

extension Optional {
    /// Calls `body` with a pointer to the wrapped array's storage, or nil.
    func withOptionalPointer<E, R>(_ body: (UnsafePointer<E>?) -> R) -> R where Wrapped == [E] {
        switch self {
        case .some(let array): return array.withUnsafeBufferPointer { body($0.baseAddress) }
        case .none: return body(nil)
        }
    }
}
