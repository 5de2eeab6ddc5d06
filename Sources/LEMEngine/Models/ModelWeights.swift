import LEMFormats

/// A linear layer `y = x Wᵀ + b` over a stored (possibly quantized) `[out, in]` weight.
public struct Linear: Sendable {
    /// `[out, in]`
    public let weight: any WeightTensor
    /// (out), nil when the layer has no bias.
    public let bias: [Float]?
    /// An unfused LoRA/DoRA term applied after the base product, nil without an adapter.
    public var adapter: LinearAdapter? = nil

    /// The weight resolved for the C kernels once (nil: decoded row by row).
    public let kernel: MatrixKernel?
    /// The options its products run with (the model's).
    public let options: EngineOptions

    /// A layer over `weight` with an optional `bias`, run with `options`.
    public init(weight: any WeightTensor, bias: [Float]?, options: EngineOptions = EngineOptions()) {
        self.weight = weight
        self.bias = bias
        self.options = options
        kernel = MatrixKernel(weight)
    }

    /// Output features.
    public var outFeatures: Int { weight.rows }
    /// Input features.
    public var inFeatures: Int { weight.columns }

    /// Applies the layer to `tokens` rows of `x` using `tile` as decode scratch; `decode`: the
    /// rows are independent single-token steps (`Kernels.matmul`).
    public func callAsFunction(
        _ x: UnsafePointer<Float>,  // (T, in)
        tokens: Int,
        tile: UnsafeMutablePointer<Float>,  // (matmulTileRows, in)
        out: UnsafeMutablePointer<Float>,  // (T, out)
        decode: Bool = false
    ) {
        if let bias {
            bias.withUnsafeBufferPointer {
                Kernels.matmul(
                    x, weight: weight, kernel: kernel, bias: $0.baseAddress, tokens: tokens, tile: tile, out: out,
                    options: options, decode: decode)
            }
        } else {
            Kernels.matmul(
                x, weight: weight, kernel: kernel, bias: nil, tokens: tokens, tile: tile, out: out, options: options,
                decode: decode)
        }
        if let adapter { adapter.apply(x, tokens: tokens, bias: bias, out: out) }
    }
}

/// The matrices a `WeightLoader` has interleaved, by name.
final class InterleavedTensors {
    var byName: [String: any WeightTensor] = [:]
}

/// Looks tensors up by their Hugging Face names and checks their shapes, so a bad file fails at
/// load with the tensor's name rather than during a forward pass.
public struct WeightLoader {
    /// Every tensor of the model by name.
    public let tensors: [String: any WeightTensor]
    /// The file or directory the tensors came from, for error messages.
    public let source: String
    /// The adapter whose modules `linear` attaches, and the strength its scale is multiplied by.
    public var adapter: (adapter: InferenceAdapter, strength: Float)? = nil
    /// The adapter modules `linear` has attached, so leftovers can be reported.
    let adapterClaims = AdapterClaims()
    /// The options of the model being built: its layers run with them, and they decide the
    /// layout `tensor` hands out.
    public let options: EngineOptions
    /// Whether `tensor` hands out matrices interleaved for decode (`InterleavedWeight`): asked for
    /// by the options, and the AVX2 kernels that read the copy run on this CPU.
    public let interleaves: Bool
    /// The interleaved matrices handed out so far, so a name asked for twice is packed once.
    let interleaved = InterleavedTensors()

    /// Creates a loader over `tensors` read from `source` for a model run with `options`.
    public init(tensors: [String: any WeightTensor], source: String, options: EngineOptions = EngineOptions()) {
        self.tensors = tensors
        self.source = source
        self.options = options
        interleaves = options.resolved.interleaveWeights
    }

    /// The tensor `name`, which must have exactly `shape`.
    public func tensor(_ name: String, shape: [Int]) throws -> any WeightTensor {
        guard let t = tensors[name] else { throw ModelError.missingTensor(name, source: source) }
        guard t.shape == shape else {
            throw ModelError.badShape(tensor: name, shape: t.shape, expected: shape, source: source)
        }
        guard interleaves, shape.count == 2 else { return t }
        if let done = interleaved.byName[name] { return done }
        let weight = InterleavedWeight.wrapping(t)
        interleaved.byName[name] = weight
        return weight
    }

    /// A 1-D tensor of `count` elements decoded to f32 (norm weights, biases).
    public func vector(_ name: String, count: Int) throws -> [Float] {
        try tensor(name, shape: [count]).decodeAll()
    }

    /// The linear layer `<prefix>.weight` (`[out, in]`) and, when `bias`, `<prefix>.bias`.
    public func linear(_ prefix: String, out: Int, in inFeatures: Int, bias: Bool = false) throws -> Linear {
        var layer = Linear(
            weight: try tensor(prefix + ".weight", shape: [out, inFeatures]),
            bias: bias ? try vector(prefix + ".bias", count: out) : nil, options: options)
        layer.adapter = try linearAdapter(prefix, weight: layer.weight)
        return layer
    }

    /// The token embedding `model.embed_tokens.weight` ([V, C]) and the output head over it: the
    /// final RMSNorm `model.norm.weight` in `normOffset` convention, then `lm_head.weight` or the
    /// embedding when tied, soft-capped when `softcap` is set.
    func embeddingAndHead(
        config: ModelConfig, normOffset: Float, softcap: Float? = nil
    ) throws -> (embedding: any WeightTensor, head: OutputHead) {
        let c = config.hiddenSize
        let embedding = try tensor("model.embed_tokens.weight", shape: [config.vocabSize, c])
        let head = OutputHead(
            weight: try outputHead(config: config, embedding: embedding),
            norm: try rmsNorm("model.norm.weight", count: c, offset: normOffset, config: config), softcap: softcap,
            options: options)
        return (embedding, head)
    }

    /// The output projection: `lm_head.weight`, or the token embedding when tied (or absent).
    public func outputHead(config: ModelConfig, embedding: any WeightTensor) throws -> any WeightTensor {
        if tensors["lm_head.weight"] != nil {
            return try tensor("lm_head.weight", shape: [config.vocabSize, config.hiddenSize])
        }
        guard config.tieWordEmbeddings else { throw ModelError.missingTensor("lm_head.weight", source: source) }
        return embedding
    }
}
