import Dispatch
import Foundation
import LEMCore
import LEMFormats

/// A model ready to answer: its weights (with an adapter applied unfused, if any), tokenizer,
/// chat template, stop ids and strings, and one generator decoding the requests it is given
/// together (up to `Generator.defaultBatch` at once).
///
/// The one way the application loads a model (`LoadedModel.load`); chat, benchmark runs, judges,
/// training probes and attention captures share instances through `ModelPool`.
public final class LoadedModel: Sendable {
    /// Which weights these are.
    public let key: ModelKey
    /// The architecture hyper-parameters.
    public var config: ModelConfig { model.config }
    /// The engine model.
    public let model: any LanguageModel
    /// The tokenizer; nil for a checkpoint that ships none (token ids only).
    public let tokenizer: Tokenizer?
    /// The chat template; nil for a model with none and no known turn markers.
    public let template: ChatTemplate?
    /// Ids that end a chat reply: the tokenizer's and config's EOS ids and the end-of-turn
    /// markers the vocabulary has.
    public let chatStopIds: Set<Int>
    /// Ids that end plain text generation: the EOS ids.
    public let eosIds: Set<Int>
    /// Bytes of the weights as stored (what the model keeps mapped or resident).
    public let weightBytes: Int
    /// Wall time of the load.
    public let loadSeconds: Double
    /// Runs generations, one at a time, on its own queue.
    public let generator: Generator
    /// sha256 of the weights' tensor index (names, encodings, shapes), then `+` and the sha256 of
    /// the adapter's weights when there is one: which computation a prompt-cache file belongs to
    /// (`promptCacheIdentity`).
    public let fingerprint: String

    /// Loads `key`'s checkpoint, tokenizer and template and applies its adapter; the model runs
    /// with `options` and keeps computed prefixes in `prefixCache` (a pool's), or in its own cache
    /// of `options.prefixCacheBytes` when nil.
    ///
    /// Errors name the file and what was wrong (`ModelFiles`, `InferenceAdapter`, `Tokenizer`).
    /// A tokenizer that cannot be read is an error unless `requireTokenizer` is false.
    public static func load(
        _ key: ModelKey, options: EngineOptions = EngineOptions(), requireTokenizer: Bool = true,
        prefixCache: PrefixCache? = nil
    ) throws -> LoadedModel {
        let start = DispatchTime.now().uptimeNanoseconds
        let files = try ModelFiles.open(key.modelURL)
        let model: any LanguageModel
        var adapterBytes = 0
        var digest = SHA256()
        var adapterDigest = SHA256()
        for name in files.tensors.keys.sorted() {
            let t = files.tensors[name]!
            digest.update(Array("\(name) \(t.encoding) \(t.shape)\n".utf8))
        }
        if let adapterURL = key.adapterURL {
            guard key.scale.isFinite else { throw FormatError(adapterURL, "adapter scale must be a finite number") }
            let adapter = try InferenceAdapter(path: adapterURL)
            adapterBytes = adapter.modules.values.reduce(0) { $0 + 4 * ($1.a.count + $1.b.count) }
            for name in adapter.modules.keys.sorted() {
                let m = adapter.modules[name]!
                adapterDigest.update(Array("\(name) \(m.rank) \(m.scale)\n".utf8))
                for part in [m.a, m.b, m.magnitude ?? []] {
                    part.withUnsafeBytes { adapterDigest.update($0) }
                }
            }
            model = try ModelFactory.makeModel(files, adapter: adapter, adapterScale: key.scale, options: options)
        } else {
            model = try ModelFactory.makeModel(files, options: options)
        }
        let tokenizer: Tokenizer?
        do {
            tokenizer = try Tokenizer.load(from: key.modelURL)
        } catch  where !requireTokenizer {
            tokenizer = nil
        }
        let weightBytes = files.tensors.values.reduce(0) { $0 + $1.storedBytes } + adapterBytes
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return LoadedModel(
            key: key, model: model, tokenizer: tokenizer, weightBytes: weightBytes, loadSeconds: seconds,
            prefixCache: prefixCache,
            fingerprint: digest.hexDigest() + (key.adapter == nil ? "" : "+" + adapterDigest.hexDigest()))
    }

    /// Wraps an already built model (tests, tools) with its tokenizer; computed prefixes go to
    /// `prefixCache`, or to a cache of its own of `model.options.prefixCacheBytes` when nil.
    public init(
        key: ModelKey, model: any LanguageModel, tokenizer: Tokenizer?, weightBytes: Int = 0, loadSeconds: Double = 0,
        prefixCache: PrefixCache? = nil, fingerprint: String = ""
    ) {
        self.fingerprint = fingerprint
        self.key = key
        self.model = model
        self.tokenizer = tokenizer
        template = tokenizer.flatMap { try? ChatTemplate(tokenizer: $0) }
        eosIds = (tokenizer?.eosTokenIds ?? []).union(model.config.eosTokenIds)
        var stops = eosIds
        if let tokenizer {
            for marker in ChatTemplate.stopMarkers(for: tokenizer) {
                if let id = tokenizer.tokenId(marker) { stops.insert(id) }
            }
        }
        chatStopIds = stops
        chatStopStrings = template == nil ? [] : tokenizer.map { ChatTemplate.stopMarkers(for: $0) } ?? []
        self.weightBytes = weightBytes
        self.loadSeconds = loadSeconds
        let bytes = model.options.prefixCacheBytes
        let prefixes = prefixCache ?? (bytes > 0 ? PrefixCache(capacityBytes: bytes) : nil)
        generator = Generator(
            model: model,
            makeDecoder: { [tokenizer] () -> any StreamingTextDecoder in
                guard let tokenizer else { return NoText() }
                return StreamingDetokenizer(tokenizer: tokenizer, skipSpecialTokens: true)
            }, prefixCache: prefixes, scope: PrefixCache.scope(for: key), maxBatch: Generator.defaultBatch)
    }

    /// Where this model's computed prefixes are kept, nil when none are.
    public var prefixCache: PrefixCache? { generator.prefixCache }

    /// The model's display name (`model.gguf + run/adapters`).
    public var title: String { key.title }

    /// The tokenizer, or an error saying this checkpoint has none.
    public func requireTokenizer() throws -> Tokenizer {
        guard let tokenizer else { throw LoadedModelError.noTokenizer(key.model) }
        return tokenizer
    }

    /// Strings that end an assistant turn, should the model spell one out (the format's markers:
    /// `ChatTemplate.stopMarkers`).
    public let chatStopStrings: [String]

    /// Tokenizes plain text.
    public func encode(_ text: String, addSpecialTokens: Bool = true) throws -> [Int] {
        try requireTokenizer().encode(text, addSpecialTokens: addSpecialTokens)
    }

    /// A streaming decoder for generated ids (special tokens left out of the text).
    public func makeDecoder() -> any StreamingTextDecoder { generator.makeDecoder?() ?? NoText() }

    /// The prompt ids of a conversation: the chat template (which writes any BOS itself), with
    /// the generation prompt unless `addGenerationPrompt` is false; for a model without a
    /// template, the contents joined by blank lines after the BOS token.
    public func promptIds(messages: [ChatMessage], addGenerationPrompt: Bool = true) throws -> [Int] {
        let tokenizer = try requireTokenizer()
        if let template {
            let text = try template.render(messages: messages, addGenerationPrompt: addGenerationPrompt)
            return try tokenizer.encode(text, addSpecialTokens: false)
        }
        return try tokenizer.encode(messages.map(\.content).joined(separator: "\n\n"), addSpecialTokens: true)
    }

    /// The request answering a conversation: its prompt ids and the chat stops.
    public func chatRequest(messages: [ChatMessage], sampling: SamplingSettings) throws -> GenerationRequest {
        GenerationRequest(
            promptIds: try promptIds(messages: messages), sampling: sampling, stopTokenIds: chatStopIds,
            stopStrings: chatStopStrings)
    }

    /// The request continuing plain text (or token ids): EOS stops only.
    public func textRequest(promptIds: [Int], sampling: SamplingSettings) -> GenerationRequest {
        GenerationRequest(promptIds: promptIds, sampling: sampling, stopTokenIds: eosIds)
    }

    /// Generates a reply to `messages` and returns it whole.
    ///
    /// The generation waits its turn on the model's queue; the caller is suspended, not blocked,
    /// and cancelling its task stops the generation before the next token and throws
    /// `CancellationError`, so a partial answer is never taken for a finished one.
    ///
    /// `continues` says whether a later prompt will extend this conversation (a chat: the answer is
    /// kept in the prefix cache too) or not (a benchmark item, a judge's verdict: only the prompt).
    public func reply(to messages: [ChatMessage], sampling: SamplingSettings, continues: Bool = true) async throws
        -> Reply
    {
        var request = try chatRequest(messages: messages, sampling: sampling)
        request.keepAnswer = continues
        return try await run(request)
    }

    /// Runs `request` to the end and returns the text.
    public func run(_ request: GenerationRequest) async throws -> Reply {
        try Task.checkCancellation()
        let handle = GenerationHandle()
        let collected = TextBox()
        let started = DispatchTime.now().uptimeNanoseconds
        let stats: GenerationStats = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                generator.start(request, handle: handle) { event in
                    switch event {
                    case .token(let id, let text): collected.append(id, text)
                    case .finished(let stats): continuation.resume(returning: stats)
                    case .failed(let error): continuation.resume(throwing: error)
                    case .promptProcessed: break
                    }
                }
            }
        } onCancel: {
            handle.cancel()
        }
        if stats.stopReason == .cancelled || Task.isCancelled { throw CancellationError() }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let (ids, text) = collected.contents
        return Reply(
            text: text.trimmingCharacters(in: .whitespacesAndNewlines), ids: ids, stats: stats, seconds: seconds)
    }

    /// A finished reply.
    public struct Reply: Sendable, Equatable {
        /// The text, trimmed.
        public var text: String
        /// The sampled ids (the stopping EOS included when it ended the reply).
        public var ids: [Int]
        public var stats: GenerationStats
        /// Wall time of prefill plus generation (queueing included).
        public var seconds: Double

        /// Generated tokens, the stopping EOS not counted.
        public var tokens: Int {
            if case .endOfSequence = stats.stopReason { return stats.generatedTokens - 1 }
            return stats.generatedTokens
        }
    }
}

/// Why a loaded model cannot do what was asked.
public enum LoadedModelError: Error, CustomStringConvertible, Equatable {
    case noTokenizer(String)
    case noTemplate(String)

    public var description: String {
        switch self {
        case .noTokenizer(let path): "\(path): no tokenizer found (tokenizer.json or GGUF vocabulary); give token ids"
        case .noTemplate(let path): "\(path): this model has no chat template and no known turn markers"
        }
    }
}

/// A decoder for a model without a tokenizer: every id decodes to no text.
struct NoText: StreamingTextDecoder {
    mutating func push(_ id: Int) -> String { "" }
    mutating func finish() -> String { "" }
}

/// Ids and text gathered from generation events on the generator's queue.
private final class TextBox: @unchecked Sendable {
    private let lock = NSLock()
    private var ids: [Int] = []
    private var text = ""

    func append(_ id: Int, _ piece: String) {
        lock.lock()
        ids.append(id)
        text += piece
        lock.unlock()
    }

    var contents: ([Int], String) {
        lock.lock()
        defer { lock.unlock() }
        return (ids, text)
    }
}
