import LEMFormats

/// A decoder-only transformer with LoRA/DoRA adapters on its blocks' linear layers, as the
/// trainer runs it: `LoRATransformer` (fast, batched, quantized bases) and
/// `TrainableTransformer` (the naive dense oracle).
///
/// The block's forward and backward — norms, RoPE, residuals, DoRA, the order of the backward —
/// are written once (`LoRADecoder+Block.swift`); each model supplies only the operations it
/// computes differently: its linear layers with their LoRA path, attention, the gated
/// activation and DoRA's row norms. Legend: N rows (B·T), H/K query/key-value heads, D head
/// dim, F feed-forward size, I/O a linear layer's input/output size.
protocol LoRADecoder {
    associatedtype Scalar: TrainingScalar
    associatedtype Linear: BlockLinear where Linear.Scalar == Scalar

    var config: ModelConfig { get }
    var layers: [DecoderBlock<Scalar, Linear>] { get }
    /// 1 for Gemma's `1 + w` norms, 0 otherwise.
    var normOffset: Scalar { get }
    /// `query_pre_attn_scalar^-0.5` (Gemma 3) or `headDim^-0.5`.
    var attentionScale: Scalar { get }

    /// `x Wᵀ + b` of block `index`'s `module`, plus `scale · ((x ⊙ mask) A) B` when the adapter
    /// covers it (recording `(x ⊙ mask) A` and the dropout mask). // x (N, I) → (N, O)
    func loraLinear(
        _ index: Int, _ module: String, _ x: [Scalar], rows: Int, view: AdapterView<Scalar>,
        record: inout BlockRecord<Scalar>
    ) -> [Scalar]

    /// Backward of `loraLinear` from the gradient `dy` of its output: adds into `dx` (unless
    /// `inputGradient` is false) and, for an adapted layer, into its LoRA gradients.
    func loraLinearBackward(
        _ index: Int, _ module: String, _ dy: [Scalar], input x: [Scalar], rows: Int,
        view: AdapterView<Scalar>, record: BlockRecord<Scalar>, inputGradient: Bool,
        dx: inout [Scalar], gradients: inout [String: LoRAGradient<Scalar>])

    /// Causal attention of every batch row (`window` nil for full attention) into the zeroed
    /// `output` (N, H·D) and `probabilities` (B, H, T, T).
    func attention(
        query: [Scalar], key: [Scalar], value: [Scalar], geometry: BatchGeometry, window: Int?,
        output: inout [Scalar], probabilities: inout [Scalar])

    /// Backward of `attention` from the output gradient and the recorded activations, into the
    /// zeroed `dQuery` (N, H, D), `dKey` and `dValue` (N, K, D).
    func attentionBackward(
        _ dOutput: [Scalar], record: BlockRecord<Scalar>, geometry: BatchGeometry, window: Int?,
        dQuery: inout [Scalar], dKey: inout [Scalar], dValue: inout [Scalar])

    /// `activation(gate) ⊙ up`. // (N, F) each
    func gatedActivation(_ gate: [Scalar], _ up: [Scalar]) -> [Scalar]

    /// Backward of `gatedActivation`: the gradients of `gate` and `up`.
    func gatedActivationBackward(_ dAct: [Scalar], gate: [Scalar], up: [Scalar]) -> (dGate: [Scalar], dUp: [Scalar])

    /// DoRA's row norms `n[o] = ‖W[o, :] + s · Σ_r A[:, r] B[r, o]‖` of `linear` under `weights`. // (O)
    func doraRowNorms(_ linear: Linear, _ weights: LoRAWeights, scale: Scalar) -> [Scalar]
}

extension LoRADecoder {
    /// `adapter` as the blocks read it, with the current row norms of its DoRA layers.
    func adapterView(_ adapter: LoRAAdapter, dropout: LoRADropout? = nil) -> AdapterView<Scalar> {
        AdapterView(adapter, dropout: dropout) { w, scale in
            guard layers.indices.contains(w.layer), let linear = layers[w.layer].linears[w.module] else { return nil }
            return doraRowNorms(linear, w, scale: scale)
        }
    }

    /// The number of transformer blocks.
    public var blockCount: Int { layers.count }

    /// The input/output sizes of block `layer`'s linear `module`; nil when there is none.
    public func linearShape(layer: Int, module: String) -> (inputs: Int, outputs: Int)? {
        layers[layer].linears[module].map { ($0.inputs, $0.outputs) }
    }
}
