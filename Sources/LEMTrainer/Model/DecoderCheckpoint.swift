import Foundation
import LEMEngine
import LEMFormats

/// The tensors of a Hugging Face-named decoder-only checkpoint (Llama / Qwen2 / Gemma 3), looked
/// up and shape-checked once for both trainer models.
///
/// Weight matrices stay `any WeightTensor` (the fast trainer keeps them encoded, the oracle
/// decodes them); norms and biases are decoded to f32 here. Legend: C hidden, F feed-forward
/// size, D head dim, O/I a linear layer's output/input size.
struct DecoderCheckpoint {
    /// One linear layer's stored weight `[O, I]` and decoded bias `(O)`.
    struct Linear: BlockLinear {
        typealias Scalar = Float
        var weight: any WeightTensor
        var bias: [Float]?
        var inputs: Int { weight.columns }
        var outputs: Int { weight.rows }
    }

    let activation: Activation
    let gemma: Bool
    /// transformers' Gemma3TextScaledWordEmbedding: √C as a tensor of the model's dtype (f32).
    let embeddingScale: Float
    /// `query_pre_attn_scalar^-0.5` (Gemma 3) or `headDim^-0.5`.
    let attentionScale: Double
    let embedding: any WeightTensor  // [V, C]
    /// `lm_head.weight`, nil when the head is tied to the embedding.
    let head: (any WeightTensor)?  // [V, C]
    let finalNorm: [Float]  // (C)
    let blocks: [DecoderBlock<Float, Linear>]

    /// Finds and checks every tensor `config` calls for; a missing or misshapen one is an error
    /// naming `source`.
    init(config: ModelConfig, tensors: [String: any WeightTensor], source: String) throws {
        func tensor(_ name: String, _ shape: [Int]) throws -> any WeightTensor {
            guard let tensor = tensors[name] else { throw FormatError("\(source): missing tensor '\(name)'") }
            guard tensor.shape == shape else {
                throw FormatError("\(source): tensor '\(name)' has shape \(tensor.shape), expected \(shape)")
            }
            return tensor
        }
        func load(_ name: String, _ shape: [Int]) throws -> [Float] { try tensor(name, shape).decodeAll() }
        guard let activation = Activation(configName: config.hiddenActivation) else {
            throw FormatError("\(source): unsupported activation '\(config.hiddenActivation)'")
        }
        guard config.experts == nil else {
            throw FormatError("\(source): training a mixture-of-experts model (\(config.modelType)) is not supported")
        }
        let gemma = config.modelType.hasPrefix("gemma3")
        self.activation = activation
        self.gemma = gemma
        embeddingScale = gemma ? Float(Double(config.hiddenSize).squareRoot()) : 1
        attentionScale = 1 / (config.queryPreAttnScalar ?? Double(config.headDim)).squareRoot()
        let c = config.hiddenSize
        let f = config.intermediateSize
        let d = config.headDim
        let qDim = config.numAttentionHeads * d
        let kvDim = config.numKeyValueHeads * d
        embedding = try tensor("model.embed_tokens.weight", [config.vocabSize, c])
        head =
            config.tieWordEmbeddings || tensors["lm_head.weight"] == nil
            ? nil : try tensor("lm_head.weight", [config.vocabSize, c])
        finalNorm = try load("model.norm.weight", [c])
        let shapes: [(String, Int, Int)] = [
            ("self_attn.q_proj", qDim, c), ("self_attn.k_proj", kvDim, c), ("self_attn.v_proj", kvDim, c),
            ("self_attn.o_proj", c, qDim), ("mlp.gate_proj", f, c), ("mlp.up_proj", f, c), ("mlp.down_proj", c, f)
        ]
        blocks = try (0..<config.numHiddenLayers).map { i in
            let p = "model.layers.\(i)."
            var linears: [String: Linear] = [:]
            for (module, outputs, inputs) in shapes {
                let bias = tensors[p + module + ".bias"] != nil ? try load(p + module + ".bias", [outputs]) : nil
                linears[module] = Linear(weight: try tensor(p + module + ".weight", [outputs, inputs]), bias: bias)
            }
            let sliding = config.isSliding(layer: i)
            let local = gemma && sliding
            let frequencies = Kernels.ropeInverseFrequencies(
                headDim: d, base: local ? (config.ropeLocalTheta ?? 10_000) : config.ropeTheta,
                scaling: local ? config.ropeLocalScaling : config.ropeScaling)
            let inputNorm = try load(p + "input_layernorm.weight", [c])
            let postAttentionNorm = try load(p + "post_attention_layernorm.weight", [c])
            return DecoderBlock(
                inputNorm: inputNorm,
                attentionOutputNorm: gemma ? postAttentionNorm : nil,
                mlpInputNorm: gemma ? try load(p + "pre_feedforward_layernorm.weight", [c]) : postAttentionNorm,
                mlpOutputNorm: gemma ? try load(p + "post_feedforward_layernorm.weight", [c]) : nil,
                queryNorm: gemma ? try load(p + "self_attn.q_norm.weight", [d]) : nil,
                keyNorm: gemma ? try load(p + "self_attn.k_norm.weight", [d]) : nil,
                linears: linears, window: config.window(layer: i),
                inverseFrequencies: frequencies.map { Double($0) })
        }
    }
}
