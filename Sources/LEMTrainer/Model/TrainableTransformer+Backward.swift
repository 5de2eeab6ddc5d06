import LEMEngine

// The oracle's forward that records activations and its backward through every block to the
// LoRA matrices (the block itself is LoRADecoder+Block.swift), and its side of a block: dense
// products, single-sequence attention and the activation with the plain generic kernels.
// Legend: n tokens of one sequence, C hidden, H/K query/key-value heads, D head dim,
// F feed-forward size, V vocabulary, R LoRA rank, I/O a linear layer's input/output size.

/// The gradient of one adapted layer's `lora_a` and `lora_b`.
public struct LoRAGradient<T: TrainingScalar>: Sendable {
    public var a: [T]  // (I, R)
    public var b: [T]  // (R, O)
    /// DoRA: the gradient of the magnitude `m`, nil for LoRA. // (O)
    public var m: [T]? = nil
}

extension TrainableTransformer {
    /// The mlx_lm loss of a batch and its gradient with respect to every adapter matrix.
    ///
    /// Loss = Σ cross-entropy over the batch's unmasked targets ÷ their count (mlx_lm's
    /// `default_loss`); `mask` picks the exact targets or mlx_lm's extra padding target. Each
    /// row is run up to its last unmasked target (later positions cannot change the loss under a
    /// causal mask). Dropout is not applied. With `computeGradients` false only the forward runs
    /// (validation) and the gradients are all zero.
    public func lossAndGradients(
        batch: TrainingBatch, mask kind: TrainingBatch.TargetMask = .exact,
        adapter: LoRAAdapter, computeGradients: Bool = true
    )
        -> (loss: Double, tokens: Double, gradients: [String: LoRAGradient<T>])
    {
        let view = adapterView(adapter)
        var gradients: [String: LoRAGradient<T>] = [:]
        for w in adapter.weights { gradients[w.modulePath] = .zeros(for: w) }
        let positions = batch.width - 1
        let mask = batch.targetMask(kind)
        let count = Double(mask.reduce(0, +))
        guard count > 0 else { return (0, 0, gradients) }
        var lossSum = 0.0
        for row in 0..<batch.batchSize {
            let rowMask = mask[row * positions..<(row + 1) * positions]
            guard let last = rowMask.lastIndex(where: { $0 != 0 }) else { continue }
            let n = last - row * positions + 1
            let start = row * batch.width
            lossSum += sequence(
                inputs: Array(batch.tokens[start..<start + n]),
                targets: Array(batch.tokens[start + 1..<start + n + 1]),
                mask: rowMask.prefix(n).map { T($0) }, normalizer: count, view: view,
                backward: computeGradients, gradients: &gradients)
        }
        return (lossSum / count, count, gradients)
    }

    /// Forward and backward of one sequence; returns its loss sum and adds its gradients.
    func sequence(
        inputs: [Int], targets: [Int], mask: [T], normalizer: Double, view: AdapterView<T>, backward: Bool,
        gradients: inout [String: LoRAGradient<T>]
    ) -> Double {
        let n = inputs.count
        let c = config.hiddenSize
        let v = config.vocabSize
        let geometry = BatchGeometry(batch: 1, tokens: n)
        func zeros(_ count: Int) -> [T] { [T](repeating: 0, count: count) }

        // Forward.
        var x = zeros(n * c)  // (n, C)
        Kernels.embeddingForward(tokens: inputs, table: embedding, scale: embeddingScale, rows: n, columns: c, into: &x)
        var records: [BlockRecord<T>] = []
        for index in layers.indices {
            var record: BlockRecord<T>? = BlockRecord()
            x = blockForward(index, x, geometry: geometry, view: view, record: &record)
            records.append(record!)
        }
        let finalNormed = norm(x, finalNorm, rows: n, columns: c)
        let headWeight = head ?? embedding
        var logits = zeros(n * v)  // (n, V)
        Kernels.linearForward(finalNormed, weight: headWeight, bias: nil, rows: n, inputs: c, outputs: v, into: &logits)
        var capSlopes: [T] = []
        if let cap = config.finalLogitSoftcapping.map({ T($0) }) {
            capSlopes = logits.map { l in
                let t = T.hyperbolicTangent(l / cap)
                return 1 - t * t
            }
            logits = logits.map { cap * T.hyperbolicTangent($0 / cap) }
        }
        let loss = Kernels.crossEntropyForward(logits: logits, targets: targets, mask: mask, rows: n, vocabulary: v)
            .lossSum
        guard backward else { return loss }

        // Backward.
        var dLogits = zeros(n * v)
        Kernels.crossEntropyBackward(
            logits: logits, targets: targets, mask: mask, rows: n, vocabulary: v,
            normalizer: normalizer, dLogits: &dLogits)
        if !capSlopes.isEmpty { dLogits = zip(dLogits, capSlopes).map { $0 * $1 } }
        var dFinal = zeros(n * c)
        Kernels.linearBackward(
            dLogits, input: finalNormed, weight: headWeight, rows: n, inputs: c, outputs: v,
            dx: &dFinal, dWeight: nil, dBias: nil)
        var dx = zeros(n * c)
        normBackward(dFinal, x, finalNorm, rows: n, columns: c, into: &dx)
        for index in layers.indices.reversed() {
            dx = blockBackward(index, dx, record: records[index], geometry: geometry, view: view, gradients: &gradients)
        }
        return loss
    }
}

extension TrainableTransformer: LoRADecoder {
    /// A block's linear layer, LoRA-adapted when the adapter covers it; records `x A`.
    func loraLinear(
        _ index: Int, _ module: String, _ x: [T], rows: Int, view: AdapterView<T>,
        record: inout BlockRecord<T>
    ) -> [T] {
        let w = layers[index].linears[module]!
        var y = [T](repeating: 0, count: rows * w.outputs)
        guard let lora = view.matrices["model.layers.\(index).\(module)"] else {
            w.bias.withOptionalPointer { bias in
                Kernels.linearForward(
                    x, weight: w.weight, bias: bias, rows: rows, inputs: w.inputs, outputs: w.outputs, into: &y)
            }
            return y
        }
        var xa = [T](repeating: 0, count: rows * lora.rank)
        w.bias.withOptionalPointer { bias in
            Kernels.loraLinearForward(
                x, weight: w.weight, bias: bias, loraA: lora.a, loraB: lora.b, scale: view.scale,
                dropoutMask: nil, rows: rows, inputs: w.inputs, outputs: w.outputs, rank: lora.rank,
                xa: &xa, into: &y)
        }
        record.lowRank[module] = xa
        return y
    }

    /// Backward of `loraLinear`: adds into `dx` and, for adapted layers, into the LoRA gradients.
    func loraLinearBackward(
        _ index: Int, _ module: String, _ dy: [T], input x: [T], rows: Int, view: AdapterView<T>,
        record: BlockRecord<T>, inputGradient: Bool, dx: inout [T],
        gradients: inout [String: LoRAGradient<T>]
    ) {
        let w = layers[index].linears[module]!
        let path = "model.layers.\(index).\(module)"
        guard let lora = view.matrices[path], var g = gradients[path], let xa = record.lowRank[module] else {
            Kernels.linearBackward(
                dy, input: x, weight: w.weight, rows: rows, inputs: w.inputs, outputs: w.outputs,
                dx: &dx, dWeight: nil, dBias: nil)
            return
        }
        Kernels.loraLinearBackward(
            dy, input: x, weight: w.weight, loraA: lora.a, loraB: lora.b, scale: view.scale,
            dropoutMask: nil, xa: xa, rows: rows, inputs: w.inputs, outputs: w.outputs, rank: lora.rank,
            dx: &dx, dA: &g.a, dB: &g.b)
        gradients[path] = g
    }

    /// Causal attention of the one sequence (probabilities (H, n, n)).
    func attention(
        query: [T], key: [T], value: [T], geometry g: BatchGeometry, window: Int?,
        output: inout [T], probabilities: inout [T]
    ) {
        precondition(g.batch == 1, "the oracle runs one sequence at a time")
        Kernels.attentionForward(
            query: query, key: key, value: value, tokens: g.tokens, heads: config.numAttentionHeads,
            kvHeads: config.numKeyValueHeads, headDim: config.headDim, scale: attentionScale,
            window: window, output: &output, probabilities: &probabilities)
    }

    /// Backward of `attention` from the saved probabilities.
    func attentionBackward(
        _ dOutput: [T], record r: BlockRecord<T>, geometry g: BatchGeometry, window: Int?,
        dQuery: inout [T], dKey: inout [T], dValue: inout [T]
    ) {
        Kernels.attentionBackward(
            dOutput, query: r.query, key: r.key, value: r.value, probabilities: r.probabilities,
            tokens: g.tokens, heads: config.numAttentionHeads, kvHeads: config.numKeyValueHeads,
            headDim: config.headDim, scale: attentionScale, window: window, dQuery: &dQuery,
            dKey: &dKey, dValue: &dValue)
    }

    /// `activation(gate) ⊙ up` with the plain kernel.
    func gatedActivation(_ gate: [T], _ up: [T]) -> [T] {  // (n, F) each
        var act = [T](repeating: 0, count: gate.count)
        Kernels.gatedActivationForward(activation, gate: gate, up: up, count: gate.count, into: &act)
        return act
    }

    /// Backward of `gatedActivation`: the gradients of `gate` and `up`.
    func gatedActivationBackward(_ dAct: [T], gate: [T], up: [T]) -> (dGate: [T], dUp: [T]) {
        var dGate = [T](repeating: 0, count: gate.count)
        var dUp = dGate  // (n, F)
        Kernels.gatedActivationBackward(
            activation, dAct, gate: gate, up: up, count: gate.count, dGate: &dGate, dUp: &dUp)
        return (dGate, dUp)
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
