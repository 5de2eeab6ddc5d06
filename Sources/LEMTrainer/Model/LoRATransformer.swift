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
/// exist at once. `TrainableTransformer` is its oracle.
public struct LoRATransformer: Sendable {
    struct Layer: Sendable {
        var inputNorm: [Float]  // (C)
        /// Llama: the pre-MLP norm; Gemma 3: the norm of the attention output.
        var postAttentionNorm: [Float]  // (C)
        var preFeedforwardNorm: [Float]?  // (C), Gemma 3
        var postFeedforwardNorm: [Float]?  // (C), Gemma 3
        var queryNorm: [Float]?  // (D), Gemma 3
        var keyNorm: [Float]?  // (D), Gemma 3
        /// Keyed by block-relative module path (`self_attn.q_proj`, ...).
        var linears: [String: FrozenLinear]
        var window: Int?
        var inverseFrequencies: [Double]  // (D/2)
    }

    public let config: ModelConfig
    let embedding: any WeightTensor  // [V, C]
    /// The output head: `lm_head.weight`, or the embedding when tied.
    let head: any WeightTensor  // [V, C]
    let finalNorm: [Float]  // (C)
    let layers: [Layer]
    let gemma: Bool
    let normOffset: Float
    let embeddingScale: Float
    let attentionScale: Float
    let activation: GatedActivation
    /// Keep only each adapted block's input and recompute its activations in the backward.
    public var gradientCheckpointing = false
    /// Vocabulary rows of the output head decoded per tile.
    public var headTileRows = 4096

    /// Wraps the tensors of a Hugging Face-named checkpoint; only norms and biases are decoded.
    public init(config: ModelConfig, tensors: [String: any WeightTensor], source: String = "model") throws {
        func tensor(_ name: String, _ shape: [Int]) throws -> any WeightTensor {
            guard let tensor = tensors[name] else { throw FormatError("\(source): missing tensor '\(name)'") }
            guard tensor.shape == shape else {
                throw FormatError("\(source): tensor '\(name)' has shape \(tensor.shape), expected \(shape)")
            }
            return tensor
        }
        func load(_ name: String, _ shape: [Int]) throws -> [Float] { try tensor(name, shape).decodeAll() }
        guard let activation = GatedActivation(configName: config.hiddenActivation) else {
            throw FormatError("\(source): unsupported activation '\(config.hiddenActivation)'")
        }
        let gemma = config.modelType.hasPrefix("gemma3")
        self.config = config
        self.activation = activation
        self.gemma = gemma
        normOffset = gemma ? 1 : 0
        // transformers' Gemma3TextScaledWordEmbedding: √C as a tensor of the model's dtype.
        embeddingScale = gemma ? Float(Double(config.hiddenSize).squareRoot()) : 1
        attentionScale = Float(1 / (config.queryPreAttnScalar ?? Double(config.headDim)).squareRoot())
        let c = config.hiddenSize, f = config.intermediateSize, d = config.headDim
        let qDim = config.numAttentionHeads * d, kvDim = config.numKeyValueHeads * d
        embedding = try tensor("model.embed_tokens.weight", [config.vocabSize, c])
        head = config.tieWordEmbeddings || tensors["lm_head.weight"] == nil
            ? embedding : try tensor("lm_head.weight", [config.vocabSize, c])
        finalNorm = try load("model.norm.weight", [c])
        let shapes: [(String, Int, Int)] = [
            ("self_attn.q_proj", qDim, c), ("self_attn.k_proj", kvDim, c), ("self_attn.v_proj", kvDim, c),
            ("self_attn.o_proj", c, qDim), ("mlp.gate_proj", f, c), ("mlp.up_proj", f, c), ("mlp.down_proj", c, f),
        ]
        layers = try (0 ..< config.numHiddenLayers).map { i in
            let p = "model.layers.\(i)."
            var linears: [String: FrozenLinear] = [:]
            for (module, outputs, inputs) in shapes {
                let bias = tensors[p + module + ".bias"] != nil ? try load(p + module + ".bias", [outputs]) : nil
                linears[module] = FrozenLinear(weight: try tensor(p + module + ".weight", [outputs, inputs]), bias: bias)
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
                guard let linear = layers[layer].linears[module] else {
                    throw TrainingConfigError.invalid(key: "lora_parameters.keys", reason: "no linear layer '\(module)' in a block")
                }
                weights.append(.initialized(layer: layer, module: module, inputs: linear.inputs, outputs: linear.outputs,
                                            rank: parameters.rank, using: &random))
            }
        }
        return LoRAAdapter(parameters: parameters, numLayers: numLayers, weights: weights)
    }
}
