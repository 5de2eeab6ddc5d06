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
/// the oracle of a faster trainer, not for training 270M-parameter models quickly.
public struct TrainableTransformer<T: TrainingScalar>: Sendable {
    /// The layer arrangement, which differs between model families.
    public enum Family: Sendable {
        /// Llama, Mistral, Qwen2: pre-norm blocks, `headDim^-0.5` scale.
        case llama
        /// Gemma 3: `1 + w` norms around both sub-blocks, q/k norms, √C embedding scale,
        /// `query_pre_attn_scalar^-0.5`, sliding layers with their own RoPE base.
        case gemma3
    }

    struct LinearWeights: Sendable {
        var weight: [T]  // (O, I)
        var bias: [T]?  // (O)
        var inputs: Int
        var outputs: Int
    }

    struct Layer: Sendable {
        var inputNorm: [T]  // (C)
        /// Llama: the pre-MLP norm; Gemma 3: the norm of the attention output.
        var postAttentionNorm: [T]  // (C)
        var preFeedforwardNorm: [T]?  // (C), Gemma 3
        var postFeedforwardNorm: [T]?  // (C), Gemma 3
        var queryNorm: [T]?  // (D), Gemma 3
        var keyNorm: [T]?  // (D), Gemma 3
        /// Keyed by block-relative module path (`self_attn.q_proj`, ...).
        var linears: [String: LinearWeights]
        var window: Int?
        var inverseFrequencies: [Double]  // (D/2)
    }

    public let config: ModelConfig
    public let family: Family
    let embedding: [T]  // (V, C)
    /// The output head, nil when tied to the embedding.
    let head: [T]?  // (V, C)
    let finalNorm: [T]  // (C)
    let layers: [Layer]
    let normOffset: T
    let embeddingScale: T
    let attentionScale: T
    let activation: GatedActivation

    /// Decodes every weight of a Hugging Face-named checkpoint into `T`.
    public init(config: ModelConfig, tensors: [String: any WeightTensor], source: String = "model") throws {
        func load(_ name: String, _ shape: [Int]) throws -> [T] {
            guard let tensor = tensors[name] else { throw FormatError("\(source): missing tensor '\(name)'") }
            guard tensor.shape == shape else {
                throw FormatError("\(source): tensor '\(name)' has shape \(tensor.shape), expected \(shape)")
            }
            return tensor.decodeAll().map { T($0) }
        }
        guard let activation = GatedActivation(configName: config.hiddenActivation) else {
            throw FormatError("\(source): unsupported activation '\(config.hiddenActivation)'")
        }
        let gemma = config.modelType.hasPrefix("gemma3")
        self.config = config
        self.activation = activation
        family = gemma ? .gemma3 : .llama
        normOffset = gemma ? 1 : 0
        // transformers' Gemma3TextScaledWordEmbedding: √C as a tensor of the model's dtype.
        embeddingScale = gemma ? T(Float(Double(config.hiddenSize).squareRoot())) : 1
        attentionScale = T(1 / (config.queryPreAttnScalar ?? Double(config.headDim)).squareRoot())
        let c = config.hiddenSize, f = config.intermediateSize, d = config.headDim
        let qDim = config.numAttentionHeads * d, kvDim = config.numKeyValueHeads * d
        embedding = try load("model.embed_tokens.weight", [config.vocabSize, c])
        head = config.tieWordEmbeddings || tensors["lm_head.weight"] == nil ? nil : try load("lm_head.weight", [config.vocabSize, c])
        finalNorm = try load("model.norm.weight", [c])
        let shapes: [(String, Int, Int)] = [
            ("self_attn.q_proj", qDim, c), ("self_attn.k_proj", kvDim, c), ("self_attn.v_proj", kvDim, c),
            ("self_attn.o_proj", c, qDim), ("mlp.gate_proj", f, c), ("mlp.up_proj", f, c), ("mlp.down_proj", c, f),
        ]
        layers = try (0 ..< config.numHiddenLayers).map { i in
            let p = "model.layers.\(i)."
            var linears: [String: LinearWeights] = [:]
            for (module, outputs, inputs) in shapes {
                let bias = tensors[p + module + ".bias"] != nil ? try load(p + module + ".bias", [outputs]) : nil
                linears[module] = LinearWeights(weight: try load(p + module + ".weight", [outputs, inputs]), bias: bias,
                                                inputs: inputs, outputs: outputs)
            }
            let sliding = config.layerTypes.indices.contains(i) && config.layerTypes[i] == .slidingAttention
            let local = gemma && sliding
            let frequencies = Kernels.ropeInverseFrequencies(
                headDim: d, base: local ? (config.ropeLocalTheta ?? 10_000) : config.ropeTheta,
                scaling: local ? config.ropeLocalScaling : config.ropeScaling)
            return Layer(
                inputNorm: try load(p + "input_layernorm.weight", [c]),
                postAttentionNorm: try load(p + "post_attention_layernorm.weight", [c]),
                preFeedforwardNorm: gemma ? try load(p + "pre_feedforward_layernorm.weight", [c]) : nil,
                postFeedforwardNorm: gemma ? try load(p + "post_feedforward_layernorm.weight", [c]) : nil,
                queryNorm: gemma ? try load(p + "self_attn.q_norm.weight", [d]) : nil,
                keyNorm: gemma ? try load(p + "self_attn.k_norm.weight", [d]) : nil,
                linears: linears, window: sliding ? config.slidingWindow : nil,
                inverseFrequencies: frequencies.map { Double($0) })
        }
    }

    /// The input/output sizes of a block's linear layer, for creating adapters.
    public func linearShape(_ module: String) -> (inputs: Int, outputs: Int)? {
        layers.first?.linears[module].map { ($0.inputs, $0.outputs) }
    }

    /// A fresh adapter over the last `numLayers` blocks (-1 = all) and `modules` (all seven
    /// linear layers when nil), initialised as mlx_lm does.
    public func makeAdapter(parameters: TrainingConfig.LoRAParameters, numLayers: Int,
                            using random: inout some RandomNumberGenerator) throws -> LoRAAdapter {
        var trainingConfig = TrainingConfig()
        trainingConfig.numLayers = numLayers
        let adapted = try trainingConfig.adaptedLayers(layerCount: layers.count)
        let modules = parameters.keys ?? LoRATargets.allLinear
        var weights: [LoRAWeights] = []
        for layer in adapted {
            for module in modules {
                guard let shape = layers[layer].linears[module] else {
                    throw TrainingConfigError.invalid(key: "lora_parameters.keys", reason: "no linear layer '\(module)' in a block")
                }
                weights.append(.initialized(layer: layer, module: module, inputs: shape.inputs, outputs: shape.outputs,
                                            rank: parameters.rank, using: &random))
            }
        }
        return LoRAAdapter(parameters: parameters, numLayers: numLayers, weights: weights)
    }
}
