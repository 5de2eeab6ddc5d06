import LEMFormats

/// Which rows of logits a forward pass computes.
public enum LogitRows: Sendable, Equatable {
    /// One row per input token: `(T, V)`.
    case all
    /// Only the last token's row: `(1, V)` — what generation needs, and far cheaper for a prefill.
    case last
}

/// A causal language model that turns a chunk of new tokens into next-token logits.
///
/// Implementations hold only immutable weights (they are `Sendable` and may be shared between
/// threads); everything that changes per sequence lives in the `KVCache` passed in.
public protocol LanguageModel: AnyObject, Sendable {
    /// The architecture hyper-parameters.
    var config: ModelConfig { get }

    /// The options it was built with and runs every forward pass with (kernel paths, layout).
    var options: EngineOptions { get }

    /// Runs `tokens` (a prefill or one decode step) at positions `cache.count ..< cache.count + T`,
    /// appends their keys and values to `cache`, and leaves the logits row-major — `(T, V)` for
    /// `.all`, `(1, V)` for `.last` — in `cache.workspace.logits`; the returned buffer views them
    /// until the next forward pass on `cache` (what a decode loop needs, with no per-token
    /// allocation).
    ///
    /// Throws `ModelError` for an out-of-range token id, an empty chunk or a full context.
    func forwardInPlace(tokens: [Int], cache: KVCache, logits: LogitRows) throws -> UnsafeBufferPointer<Float>
}

extension LanguageModel {
    /// `forwardInPlace` with the logits copied out.
    public func forward(tokens: [Int], cache: KVCache, logits rows: LogitRows) throws -> [Float] {
        Array(try forwardInPlace(tokens: tokens, cache: cache, logits: rows))
    }

    /// Creates an empty cache shaped for this model.
    public func makeCache() -> KVCache { KVCache(config: config) }

    /// Runs `tokens` and returns the logits of every position, `(T, V)`.
    public func forward(tokens: [Int], cache: KVCache) throws -> [Float] {
        try forward(tokens: tokens, cache: cache, logits: .all)
    }

    /// Checks a chunk (`validate`) and readies the cache's workspace for it: buffers grown for
    /// `T` tokens and the rows `logits` asks for, positions set to `cache.count ..< cache.count + T`.
    func workspace(for tokens: [Int], cache: KVCache, logits rows: LogitRows) throws -> Workspace {
        try validate(tokens: tokens, cache: cache)
        let ws = cache.workspace
        ws.reserve(tokens: tokens.count, config: config, logits: rows)
        ws.setPositions(start: cache.count, count: tokens.count)
        return ws
    }

    /// Checks a chunk before a forward pass: non-empty, ids in the vocabulary, within the context.
    func validate(tokens: [Int], cache: KVCache) throws {
        guard !tokens.isEmpty else { throw ModelError.emptyInput }
        for (i, id) in tokens.enumerated() where id < 0 || id >= config.vocabSize {
            throw ModelError.tokenOutOfRange(id: id, index: i, vocabSize: config.vocabSize)
        }
        let end = cache.count + tokens.count
        if end > config.maxPositionEmbeddings {
            throw ModelError.contextFull(needed: end, limit: config.maxPositionEmbeddings)
        }
        guard cache.layers.count == config.numHiddenLayers else {
            throw ModelError.cacheMismatch(layers: cache.layers.count, expected: config.numHiddenLayers)
        }
    }
}

/// Errors from building or running a model.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    case unsupportedArchitecture(String, source: String)
    case unsupportedActivation(String, source: String)
    case missingTensor(String, source: String)
    case badShape(tensor: String, shape: [Int], expected: [Int], source: String)
    case badConfig(String, source: String)
    case emptyInput
    case tokenOutOfRange(id: Int, index: Int, vocabSize: Int)
    case contextFull(needed: Int, limit: Int)
    case cacheMismatch(layers: Int, expected: Int)

    public var description: String {
        switch self {
        case .unsupportedArchitecture(let name, let source):
            return
                "\(source): unsupported model_type '\(ErrorText.clip(name))' (supported: \(ModelFactory.supportedTypes.joined(separator: ", ")))"
        case .unsupportedActivation(let name, let source):
            return
                "\(source): unsupported hidden activation '\(ErrorText.clip(name))' (expected gelu_pytorch_tanh or silu)"
        case .missingTensor(let name, let source):
            return "\(source): missing tensor '\(name)'"
        case .badShape(let name, let shape, let expected, let source):
            return "\(source): tensor '\(name)' has shape \(shape), expected \(expected)"
        case .badConfig(let message, let source):
            return "\(source): \(message)"
        case .emptyInput:
            return "forward: no input tokens"
        case .tokenOutOfRange(let id, let index, let vocabSize):
            return "forward: token id \(id) at index \(index) is outside the vocabulary 0..<\(vocabSize)"
        case .contextFull(let needed, let limit):
            return "forward: \(needed) positions exceed the model's context of \(limit)"
        case .cacheMismatch(let layers, let expected):
            return "forward: the cache has \(layers) layers, the model \(expected)"
        }
    }
}
