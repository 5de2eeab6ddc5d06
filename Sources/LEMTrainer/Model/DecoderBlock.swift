/// A block's linear layer as a trainer model holds it, `y = x Wᵀ + b`: what the shared block
/// code needs to know of it whatever stores the weight.
protocol BlockLinear: Sendable {
    associatedtype Scalar: TrainingScalar
    /// (O), nil when the layer has none.
    var bias: [Scalar]? { get }
    var inputs: Int { get }
    var outputs: Int { get }
}

/// One decoder block (Llama / Qwen2 / Gemma 3) as the trainer sees it: its norms in `Scalar`,
/// its seven linear layers in whatever form a model keeps them, and its attention settings.
///
/// The checkpoint reads it once (`DecoderCheckpoint`, stored weights); the fast model wraps the
/// weights as `FrozenLinear`s and the oracle decodes them to dense `Scalar` matrices (`map`).
/// The norms are named by role: Llama has no norm on a sub-block's output, and its
/// `post_attention_layernorm` is the MLP's input norm. Legend: C hidden, D head dim.
struct DecoderBlock<Scalar: TrainingScalar, Linear: BlockLinear>: Sendable where Linear.Scalar == Scalar {
    /// `input_layernorm`. // (C)
    var inputNorm: [Scalar]
    /// Gemma 3's `post_attention_layernorm` on the attention output; nil for Llama. // (C)
    var attentionOutputNorm: [Scalar]?
    /// Gemma 3's `pre_feedforward_layernorm`, Llama's `post_attention_layernorm`. // (C)
    var mlpInputNorm: [Scalar]
    /// Gemma 3's `post_feedforward_layernorm` on the MLP output; nil for Llama. // (C)
    var mlpOutputNorm: [Scalar]?
    /// Gemma 3's per-head q/k norms. // (D)
    var queryNorm: [Scalar]?
    var keyNorm: [Scalar]?
    /// Keyed by block-relative module path (`self_attn.q_proj`, ...).
    var linears: [String: Linear]
    /// The sliding window, nil for full attention.
    var window: Int?
    var inverseFrequencies: [Double]  // (D/2)

    /// The same block with every linear layer converted by `convert` and the norms in its scalar type.
    func map<L: BlockLinear>(_ convert: (Linear) -> L) -> DecoderBlock<L.Scalar, L> {
        func values(_ v: [Scalar]) -> [L.Scalar] { v.map { L.Scalar($0) } }
        return DecoderBlock<L.Scalar, L>(
            inputNorm: values(inputNorm), attentionOutputNorm: attentionOutputNorm.map(values),
            mlpInputNorm: values(mlpInputNorm), mlpOutputNorm: mlpOutputNorm.map(values),
            queryNorm: queryNorm.map(values), keyNorm: keyNorm.map(values),
            linears: linears.mapValues(convert), window: window, inverseFrequencies: inverseFrequencies)
    }
}
