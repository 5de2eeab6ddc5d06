import Foundation

/// The loaded models of the process, shared by chat, attention, benchmark runs, judges and
/// training probes: one load per checkpoint + adapter, least recently used models dropped once
/// their weights pass a byte budget.
///
/// `model(for:)` blocks while loading (call it off the UI thread); two callers asking for the
/// same key while it loads wait for the one load. Dropping a model only releases the pool's
/// reference: whoever still holds it keeps using it.
public final class ModelPool: @unchecked Sendable {
    /// The most bytes of weights kept; the model used last is kept even when it alone is larger.
    public let capacityBytes: Int
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var ready: [ModelKey: LoadedModel] = [:]
    private var loading: Set<ModelKey> = []
    private var order: [ModelKey] = []  // least recently used first
    private let loader: @Sendable (ModelKey) throws -> LoadedModel
    private var seeds: [URL] = []
    /// The computed prefixes of the pool's models (`options.prefixCacheBytes` of them), nil when
    /// the loader keeps its own; a model's entries go when the pool drops it.
    public let prefixCache: PrefixCache?

    /// A pool keeping up to `capacityBytes` of weights, loading models to run with `options`,
    /// which share one prefix cache of `options.prefixCacheBytes`.
    public convenience init(capacityBytes: Int = 6 << 30, options: EngineOptions = EngineOptions()) {
        let prefixes = options.prefixCacheBytes > 0 ? PrefixCache(capacityBytes: options.prefixCacheBytes) : nil
        self.init(capacityBytes: capacityBytes, prefixCache: prefixes) {
            try LoadedModel.load($0, options: options, prefixCache: prefixes)
        }
    }

    /// A pool keeping up to `capacityBytes` of weights, loading with `loader`; `prefixCache` is
    /// the one the loader's models use, if any, so the pool can drop a model's entries with it.
    public init(
        capacityBytes: Int, prefixCache: PrefixCache? = nil,
        loader: @escaping @Sendable (ModelKey) throws -> LoadedModel
    ) {
        self.capacityBytes = capacityBytes
        self.prefixCache = prefixCache
        self.loader = loader
    }

    /// Prompt-cache files whose state every model loaded from now on starts with in its prefix
    /// cache (`LoadedModel.seedPrefixCache`), each into the models it was made for: a file made
    /// for another model is passed over; one that cannot be read fails the load with its reason.
    public var promptCacheFiles: [URL] {
        get { condition.withLock { seeds } }
        set { condition.withLock { seeds = newValue } }
    }

    /// `model` with the prompt-cache files made for it seeded into its prefix cache.
    private func seeded(_ model: LoadedModel, files: [URL]) throws -> LoadedModel {
        for url in files {
            let metadata = try PromptCacheFile.userMetadata(url)
            guard PromptCacheFile.differences(metadata, identity: model.promptCacheIdentity).isEmpty else { continue }
            try model.seedPrefixCache(from: url)
        }
        return model
    }

    /// The model for `key`, loaded now if the pool does not hold it.
    public func model(for key: ModelKey) throws -> LoadedModel {
        condition.lock()
        while true {
            if let model = ready[key] {
                touch(key)
                condition.unlock()
                return model
            }
            if !loading.contains(key) { break }
            condition.wait()
        }
        loading.insert(key)
        let files = seeds
        condition.unlock()
        let result = Result { try seeded(loader(key), files: files) }
        condition.lock()
        loading.remove(key)
        if case .success(let model) = result {
            ready[key] = model
            touch(key)
            evict(keeping: key)
        }
        condition.broadcast()
        condition.unlock()
        return try result.get()
    }

    /// The model for `key` if it is loaded, without loading it.
    public func cached(_ key: ModelKey) -> LoadedModel? { condition.withLock { ready[key] } }

    /// The keys held, least recently used first.
    public var keys: [ModelKey] { condition.withLock { order } }

    /// Drops `key` from the pool.
    public func remove(_ key: ModelKey) {
        condition.lock()
        ready[key] = nil
        order.removeAll { $0 == key }
        condition.unlock()
        prefixCache?.remove(model: key)
    }

    private func touch(_ key: ModelKey) {
        order.removeAll { $0 == key }
        order.append(key)
    }

    private func evict(keeping key: ModelKey) {
        var total = order.reduce(0) { $0 + (ready[$1]?.weightBytes ?? 0) }
        while total > capacityBytes, let oldest = order.first, oldest != key {
            total -= ready[oldest]?.weightBytes ?? 0
            ready[oldest] = nil
            order.removeFirst()
            prefixCache?.remove(model: oldest)
        }
    }
}
