/// A model `LoRATraining` can train: it gives the mlx_lm loss of a batch and the gradient of
/// every adapter matrix.
///
/// `LoRATransformer` (fast, quantized bases, batched) and `TrainableTransformer` (the naive
/// dense oracle) both conform; the oracle ignores dropout.
public protocol LoRALossModel: Sendable {
    /// The batch loss, the count of trained tokens, and (when `computeGradients`) the
    /// gradients keyed by `model.layers.N.<module>`; with `dropout` nil no dropout is applied.
    func lossAndFloatGradients(
        batch: TrainingBatch, mask: TrainingBatch.TargetMask, adapter: LoRAAdapter,
        computeGradients: Bool, dropout: LoRADropout?
    )
        -> (loss: Double, tokens: Double, gradients: [String: LoRAGradient<Float>])

    /// DoRA's initial magnitude of a block's linear layer: the row norms `‖W[o, :]‖` of its
    /// frozen base weight (mlx_lm `DoRALinear.set_linear`). // (O)
    func baseRowNorms(layer: Int, module: String) throws -> [Float]

    /// The number of transformer blocks.
    var blockCount: Int { get }

    /// The input/output sizes of block `layer`'s linear `module`; nil when there is none.
    func linearShape(layer: Int, module: String) -> (inputs: Int, outputs: Int)?
}

extension LoRALossModel {
    /// A fresh adapter over the last `numLayers` blocks (-1 = all) and `modules` (all seven
    /// linear layers when nil), initialised as mlx_lm does.
    public func makeAdapter(
        parameters: TrainingConfig.LoRAParameters, numLayers: Int,
        using random: inout some RandomNumberGenerator
    ) throws -> LoRAAdapter {
        var trainingConfig = TrainingConfig()
        trainingConfig.numLayers = numLayers
        let adapted = try trainingConfig.adaptedLayers(layerCount: blockCount)
        let modules = parameters.keys ?? LoRATargets.allLinear
        var weights: [LoRAWeights] = []
        for layer in adapted {
            for module in modules {
                guard let shape = linearShape(layer: layer, module: module) else {
                    throw TrainingConfigError.invalid(
                        key: "lora_parameters.keys", reason: "no linear layer '\(module)' in a block")
                }
                // A and B hold rank · (in + out) floats: a rank past the layer's smaller side adds
                // nothing a full update would not, and a huge one could not be allocated.
                guard parameters.rank <= min(shape.inputs, shape.outputs) else {
                    throw TrainingConfigError.invalid(
                        key: "lora_parameters.rank",
                        reason:
                            "\(parameters.rank) is larger than \(module) (\(shape.inputs) → \(shape.outputs)) allows; "
                            + "at most \(min(shape.inputs, shape.outputs))")
                }
                weights.append(
                    .initialized(
                        layer: layer, module: module, inputs: shape.inputs, outputs: shape.outputs,
                        rank: parameters.rank, using: &random))
            }
        }
        return LoRAAdapter(parameters: parameters, numLayers: numLayers, weights: weights)
    }
}

extension LoRATransformer: LoRALossModel {
    /// Forwards to `lossAndGradients`.
    public func lossAndFloatGradients(
        batch: TrainingBatch, mask: TrainingBatch.TargetMask, adapter: LoRAAdapter,
        computeGradients: Bool, dropout: LoRADropout?
    )
        -> (loss: Double, tokens: Double, gradients: [String: LoRAGradient<Float>])
    {
        lossAndGradients(
            batch: batch, mask: mask, adapter: adapter, computeGradients: computeGradients, dropout: dropout)
    }
}

extension TrainableTransformer: LoRALossModel {
    /// Forwards to `lossAndGradients` and converts the gradients to Float (no dropout).
    public func lossAndFloatGradients(
        batch: TrainingBatch, mask: TrainingBatch.TargetMask, adapter: LoRAAdapter,
        computeGradients: Bool, dropout: LoRADropout?
    )
        -> (loss: Double, tokens: Double, gradients: [String: LoRAGradient<Float>])
    {
        let (loss, tokens, gradients) = lossAndGradients(
            batch: batch, mask: mask, adapter: adapter,
            computeGradients: computeGradients)
        return (
            loss, tokens,
            gradients.mapValues {
                LoRAGradient(a: $0.a.map { Float($0) }, b: $0.b.map { Float($0) }, m: $0.m?.map { Float($0) })
            }
        )
    }
}
