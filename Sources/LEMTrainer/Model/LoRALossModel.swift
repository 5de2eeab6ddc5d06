/// A model `LoRATraining` can train: it gives the mlx_lm loss of a batch and the gradient of
/// every adapter matrix.
///
/// `LoRATransformer` (fast, quantized bases, batched) and `TrainableTransformer` (the naive
/// dense oracle) both conform; the oracle ignores dropout.
public protocol LoRALossModel: Sendable {
    /// The batch loss, the count of trained tokens, and (when `computeGradients`) the
    /// gradients keyed by `model.layers.N.<module>`; with `dropout` nil no dropout is applied.
    func lossAndFloatGradients(batch: TrainingBatch, mask: TrainingBatch.TargetMask, adapter: LoRAAdapter,
                               computeGradients: Bool, dropout: LoRADropout?)
        -> (loss: Double, tokens: Double, gradients: [String: LoRAGradient<Float>])

    /// DoRA's initial magnitude of a block's linear layer: the row norms `‖W[o, :]‖` of its
    /// frozen base weight (mlx_lm `DoRALinear.set_linear`). // (O)
    func baseRowNorms(layer: Int, module: String) throws -> [Float]
}

extension LoRATransformer: LoRALossModel {
    /// Forwards to `lossAndGradients`.
    public func lossAndFloatGradients(batch: TrainingBatch, mask: TrainingBatch.TargetMask, adapter: LoRAAdapter,
                                      computeGradients: Bool, dropout: LoRADropout?)
        -> (loss: Double, tokens: Double, gradients: [String: LoRAGradient<Float>])
    {
        lossAndGradients(batch: batch, mask: mask, adapter: adapter, computeGradients: computeGradients, dropout: dropout)
    }
}

extension TrainableTransformer: LoRALossModel {
    /// Forwards to `lossAndGradients` and converts the gradients to Float (no dropout).
    public func lossAndFloatGradients(batch: TrainingBatch, mask: TrainingBatch.TargetMask, adapter: LoRAAdapter,
                                      computeGradients: Bool, dropout: LoRADropout?)
        -> (loss: Double, tokens: Double, gradients: [String: LoRAGradient<Float>])
    {
        let (loss, tokens, gradients) = lossAndGradients(batch: batch, mask: mask, adapter: adapter,
                                                         computeGradients: computeGradients)
        return (loss, tokens, gradients.mapValues { LoRAGradient(a: $0.a.map { Float($0) }, b: $0.b.map { Float($0) }, m: $0.m?.map { Float($0) }) })
    }
}
