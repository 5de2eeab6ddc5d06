import Foundation

/// Everything `lem attn` reports for one model on one token sequence: per-head statistics (and
/// optionally maps) for every layer, and the K-vector bone-orientation metrics.
public struct AttentionAnalysis: Sendable {
    /// One head of one layer.
    public struct Head: Sendable {
        public var head: Int
        public var stats: HeadStatistics
        /// (T, T) probabilities, row = query; empty unless maps were kept.
        public var map: [Float]
    }

    /// One layer.
    public struct Layer: Sendable {
        public var layer: Int
        /// Sliding window, 0 for full attention.
        public var window: Int
        public var kv: BoneOrientation.Layer
        public var heads: [Head]
    }

    /// The analysed token ids.
    public var ids: [Int]
    public var layers: [Layer]
    public var bone: BoneOrientation
    /// Query heads per layer.
    public var heads: Int

    /// Analyses a filled capture; `keepMaps` keeps every head's dense map (T² floats each).
    public init(capture: AttentionCapture, ids: [Int], keepMaps: Bool) throws {
        let t = capture.count
        guard t > 0 else { throw AttentionError.noTokens }
        self.ids = ids
        heads = capture.heads
        let bone = BoneOrientation(
            keys: (0..<capture.layers).map { capture.keys(layer: $0) }, tokens: t,
            kvHeads: capture.kvHeads, headDim: capture.headDim)
        self.bone = bone
        layers = (0..<capture.layers).map { l in
            let window = capture.windows[l]
            let heads = (0..<capture.heads).map { h in
                let map = capture.map(layer: l, head: h)
                return Head(
                    head: h, stats: HeadStatistics(map: map, tokens: t, window: window), map: keepMaps ? map : [])
            }
            return Layer(layer: l, window: window, kv: bone.layers[l], heads: heads)
        }
    }

    /// The statistic `name` of every (layer, head), row-major (L, H).
    public func grid(_ name: String) -> [Double] {
        layers.flatMap { $0.heads.map { $0.stats.value(name) ?? .nan } }
    }
}

/// Runs a model over tokens with an attention capture attached.
public enum AttentionRunner {
    /// Captures `ids` (one prefill), then `generate` greedy tokens one at a time (stopping early
    /// at a token in `stopIds`); returns the capture and every token id it covers.
    ///
    /// Throws `AttentionError.tooManyTokens` before running anything when the sequence would
    /// exceed `maxTokens`.
    public static func capture(
        model: any LanguageModel, ids: [Int], generate: Int = 0, stopIds: Set<Int> = [],
        maxTokens: Int = AttentionCapture.defaultMaxTokens, keepQueries: Bool = false
    ) throws -> (capture: AttentionCapture, ids: [Int]) {
        guard !ids.isEmpty else { throw AttentionError.noTokens }
        guard ids.count + generate <= maxTokens else {
            throw AttentionError.tooManyTokens(requested: ids.count + generate, limit: maxTokens)
        }
        let cache = model.makeCache()
        let capture = AttentionCapture(config: model.config, maxTokens: maxTokens, keepQueries: keepQueries)
        cache.capture = capture
        var all = ids
        var logits = try model.forward(tokens: ids, cache: cache, logits: .last)
        for _ in 0..<generate {
            let next = Sampler.argmax(logits)
            all.append(next)
            logits = try model.forward(tokens: [next], cache: cache, logits: .last)
            if stopIds.contains(next) { break }
        }
        return (capture, all)
    }
}
