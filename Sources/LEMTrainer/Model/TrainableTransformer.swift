import Foundation
import LEMEngine
import LEMFormats

/// A decoder-only transformer (Llama / Qwen2 / Gemma 3) with dense weights in scalar type `T`,
/// whose forward keeps the activations its backward needs: the reference whole-model
/// backward for LoRA training.
///
/// Built from the naive training kernels (`Kernels+TrainingForward.swift`) so every step has a
/// finite-difference-checked backward; the whole is checked against PyTorch autograd. It runs
/// one sequence at a time and decodes every weight to `T`, so it is meant for tiny models and as
/// the oracle of a faster trainer, not for training 270M-parameter models quickly. The block's
/// structure is shared with the fast model (`LoRADecoder`); what the oracle checks of it is every
/// product, attention and activation, computed here with the plain kernels.
public struct TrainableTransformer<T: TrainingScalar>: Sendable {
    /// The layer arrangement, which differs between model families.
    public enum Family: Sendable {
        /// Llama, Mistral, Qwen2: pre-norm blocks, `headDim^-0.5` scale.
        case llama
        /// Gemma 3: `1 + w` norms around both sub-blocks, q/k norms, √C embedding scale,
        /// `query_pre_attn_scalar^-0.5`, sliding layers with their own RoPE base.
        case gemma3
    }

    /// A block's linear layer decoded to `T`.
    struct LinearWeights: BlockLinear {
        typealias Scalar = T
        var weight: [T]  // (O, I)
        var bias: [T]?  // (O)
        var inputs: Int
        var outputs: Int
    }

    public let config: ModelConfig
    public let family: Family
    let embedding: [T]  // (V, C)
    /// The output head, nil when tied to the embedding.
    let head: [T]?  // (V, C)
    let finalNorm: [T]  // (C)
    let layers: [DecoderBlock<T, LinearWeights>]
    let normOffset: T
    let embeddingScale: T
    let attentionScale: T
    let activation: Activation

    /// Decodes every weight of a Hugging Face-named checkpoint into `T`.
    public init(config: ModelConfig, tensors: [String: any WeightTensor], source: String = "model") throws {
        let checkpoint = try DecoderCheckpoint(config: config, tensors: tensors, source: source)
        func dense(_ weight: any WeightTensor) -> [T] { weight.decodeAll().map { T($0) } }
        self.config = config
        activation = checkpoint.activation
        family = checkpoint.gemma ? .gemma3 : .llama
        normOffset = checkpoint.gemma ? 1 : 0
        embeddingScale = T(checkpoint.embeddingScale)
        attentionScale = T(checkpoint.attentionScale)
        embedding = dense(checkpoint.embedding)
        head = checkpoint.head.map { dense($0) }
        finalNorm = checkpoint.finalNorm.map { T($0) }
        layers = checkpoint.blocks.map { block in
            block.map { linear in
                LinearWeights(
                    weight: dense(linear.weight), bias: linear.bias.map { $0.map { T($0) } },
                    inputs: linear.inputs, outputs: linear.outputs)
            }
        }
    }

    /// The input/output sizes of a block's linear layer, for creating adapters.
    public func linearShape(_ module: String) -> (inputs: Int, outputs: Int)? {
        layers.first?.linears[module].map { ($0.inputs, $0.outputs) }
    }
}
