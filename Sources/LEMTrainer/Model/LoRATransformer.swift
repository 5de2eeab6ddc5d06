import Foundation
import LEMEngine
import LEMFormats

/// The fast LoRA trainer's model: a decoder-only transformer (Llama / Qwen2 / Gemma 3) whose
/// frozen base weights stay in their stored encoding, batched over (B, T) rows, in f32.
///
/// Every product with a base matrix — forward `x Wᵀ` and input gradient `dy W` — decodes the
/// weight tile by tile into `cblas_sgemm` (`FrozenLinear`), so a GGUF Q4_K or MLX 4-bit base is
/// trained as QLoRA without ever being expanded; the adapters and activations are f32. Only the
/// adapted blocks are run backward; with gradient checkpointing only each adapted block's input
/// is kept and the block is recomputed during the backward. The output head is applied to the
/// trained positions only, a vocabulary tile at a time, so (tokens × vocabulary) logits never
/// exist at once. `TrainableTransformer` is its oracle; the block's structure is shared with it
/// (`LoRADecoder`).
public struct LoRATransformer: Sendable {
    public let config: ModelConfig
    let embedding: any WeightTensor  // [V, C]
    /// The output head: `lm_head.weight`, or the embedding when tied.
    let head: any WeightTensor  // [V, C]
    let finalNorm: [Float]  // (C)
    let layers: [DecoderBlock<Float, FrozenLinear>]
    let normOffset: Float
    let embeddingScale: Float
    let attentionScale: Float
    let activation: Activation
    /// Keep only each adapted block's input and recompute its activations in the backward.
    public var gradientCheckpointing = false
    /// Vocabulary rows of the output head decoded per tile.
    public var headTileRows = 4096
    /// Tiles and partial sums reused across the products of a step.
    let scratch = ScratchPool()

    /// The engine options its products run with: the trainer uses their thread count.
    public let options: EngineOptions

    /// Wraps the tensors of a Hugging Face-named checkpoint; only norms and biases are decoded.
    /// Its products are shared out between the threads of `options`.
    public init(
        config: ModelConfig, tensors: [String: any WeightTensor], source: String = "model",
        options: EngineOptions = EngineOptions()
    ) throws {
        let checkpoint = try DecoderCheckpoint(config: config, tensors: tensors, source: source)
        self.config = config
        self.options = options
        activation = checkpoint.activation
        normOffset = checkpoint.gemma ? 1 : 0
        embeddingScale = checkpoint.embeddingScale
        attentionScale = Float(checkpoint.attentionScale)
        embedding = checkpoint.embedding
        head = checkpoint.head ?? checkpoint.embedding
        finalNorm = checkpoint.finalNorm
        layers = checkpoint.blocks.map { block in
            block.map { FrozenLinear(weight: $0.weight, bias: $0.bias, options: options) }
        }
    }
}
