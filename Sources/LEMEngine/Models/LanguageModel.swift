import LEMFormats

/// Which rows of logits a forward pass computes.
public enum LogitRows: Sendable, Equatable {
    /// One row per input token: `(T, V)`.
    case all
    /// Only the last token's row: `(1, V)` — what generation needs, and far cheaper for a prefill.
    case last
}

/// What one forward pass runs: a chunk of new tokens of one sequence, or one decode step of each of
/// several sequences (a batch).
public struct ForwardPass {
    /// The new tokens in row order: the chunk's, or one per sequence.
    public let tokens: [Int]
    /// The chunk's cache, or one distinct cache per row of a decode step.
    public let caches: [KVCache]
    /// Whether the rows are independent decode steps (row `b` at position `caches[b].count`);
    /// false: a chunk at positions `caches[0].count ..< caches[0].count + T`.
    public let decode: Bool
    /// Where the pass works and leaves its logits.
    public let workspace: Workspace
    /// Which rows of logits it computes (a decode step: every row, one per sequence).
    public let logits: LogitRows

    /// A chunk of `tokens` of the sequence in `cache`, working in the cache's own workspace.
    public init(chunk tokens: [Int], cache: KVCache, logits: LogitRows) {
        self.tokens = tokens
        caches = [cache]
        decode = false
        workspace = cache.workspace
        self.logits = logits
    }

    /// One decode step of each sequence: `tokens[b]` appended to `caches[b]`, working in `workspace`.
    public init(decode tokens: [Int], caches: [KVCache], workspace: Workspace) {
        self.tokens = tokens
        self.caches = caches
        decode = true
        self.workspace = workspace
        logits = .all
    }

    /// Records the processed positions in the caches.
    func advance() {
        if decode {
            for cache in caches { cache.advance(by: 1) }
        } else {
            caches[0].advance(by: tokens.count)
        }
    }
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

    /// Runs `pass`: appends its rows' keys and values to their caches and leaves the logits
    /// row-major in `pass.workspace.logits` — `(T, V)` for `.all`, `(1, V)` for `.last`, `(B, V)`
    /// for a decode step of B sequences; the returned buffer views them until the next pass in
    /// that workspace. A decode step's row equals what that sequence's own one-token pass computes.
    ///
    /// Throws `ModelError` for an out-of-range token id, an empty chunk, a full context or a
    /// cache given twice.
    func forwardInPlace(_ pass: ForwardPass) throws -> UnsafeBufferPointer<Float>
}

extension LanguageModel {
    /// Runs `tokens` (a prefill or one decode step) at positions `cache.count ..< cache.count + T`,
    /// appends their keys and values to `cache`, and leaves the logits row-major — `(T, V)` for
    /// `.all`, `(1, V)` for `.last` — in `cache.workspace.logits`; the returned buffer views them
    /// until the next forward pass on `cache` (what a decode loop needs, with no per-token
    /// allocation).
    ///
    /// Throws `ModelError` for an out-of-range token id, an empty chunk or a full context.
    public func forwardInPlace(tokens: [Int], cache: KVCache, logits: LogitRows) throws -> UnsafeBufferPointer<Float> {
        try forwardInPlace(ForwardPass(chunk: tokens, cache: cache, logits: logits))
    }

    /// One decode step of several sequences at once: `tokens[b]` is appended to `caches[b]` (all
    /// distinct) and row `b` of the returned `(B, V)` logits (in `workspace`) is that sequence's
    /// next-token logits, as its own one-token `forwardInPlace` computes them. Each weight block
    /// is read from memory once for all B.
    public func decodeInPlace(tokens: [Int], caches: [KVCache], workspace: Workspace) throws
        -> UnsafeBufferPointer<Float>
    {
        try forwardInPlace(ForwardPass(decode: tokens, caches: caches, workspace: workspace))
    }

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

    /// Readies the pass's workspace (`workspace(for:)`) and writes the embedding rows of its
    /// tokens, times `scale` when it is not 1, into the residual stream (`hidden`).
    func embed(_ pass: ForwardPass, from embedding: any WeightTensor, scale: Float = 1) throws -> Workspace {
        let ws = try workspace(for: pass)
        let c = config.hiddenSize
        let x = ws.hidden.pointer
        for (i, id) in pass.tokens.enumerated() {
            let row = x + i * c
            embedding.decodeRow(id, into: row)
            if scale != 1 { for j in 0..<c { row[j] *= scale } }
        }
        return ws
    }

    /// Checks a pass (`validate`) and readies its workspace: buffers grown for its rows and the
    /// logits it asks for, each row's absolute position set.
    func workspace(for pass: ForwardPass) throws -> Workspace {
        try validate(pass)
        let ws = pass.workspace
        ws.reserve(tokens: pass.tokens.count, config: config, logits: pass.logits)
        if pass.decode {
            ws.positions.removeAll(keepingCapacity: true)
            for cache in pass.caches { ws.positions.append(cache.count) }
        } else {
            ws.setPositions(start: pass.caches[0].count, count: pass.tokens.count)
        }
        return ws
    }

    /// Checks a pass before it runs: non-empty, ids in the vocabulary, within the context, caches
    /// shaped for this model, and for a decode step one distinct cache per token.
    func validate(_ pass: ForwardPass) throws {
        let tokens = pass.tokens
        guard !tokens.isEmpty else { throw ModelError.emptyInput }
        for (i, id) in tokens.enumerated() where id < 0 || id >= config.vocabSize {
            throw ModelError.tokenOutOfRange(id: id, index: i, vocabSize: config.vocabSize)
        }
        if pass.decode {
            guard pass.caches.count == tokens.count else {
                throw ModelError.batchMismatch(tokens: tokens.count, caches: pass.caches.count)
            }
            for (i, cache) in pass.caches.enumerated() {
                for j in 0..<i where pass.caches[j] === cache { throw ModelError.sharedCache(row: i, first: j) }
            }
        }
        for cache in pass.caches {
            let end = cache.count + (pass.decode ? 1 : tokens.count)
            if end > config.maxPositionEmbeddings {
                throw ModelError.contextFull(needed: end, limit: config.maxPositionEmbeddings)
            }
            guard cache.layers.count == config.numHiddenLayers else {
                throw ModelError.cacheMismatch(layers: cache.layers.count, expected: config.numHiddenLayers)
            }
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
    case batchMismatch(tokens: Int, caches: Int)
    case sharedCache(row: Int, first: Int)

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
        case .batchMismatch(let tokens, let caches):
            return "forward: a decode step of \(tokens) tokens was given \(caches) caches (one per token expected)"
        case .sharedCache(let row, let first):
            return "forward: row \(row) of a decode step uses the same cache as row \(first) (one cache per sequence)"
        }
    }
}
