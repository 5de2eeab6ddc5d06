import Foundation
import LEMFormats

// Legend: L layers, T captured tokens, H query heads, K key/value heads, D head dim.

/// Records what every attention layer of a forward pass saw: the post-RoPE keys (and queries
/// when asked) and the attention probabilities, over one or more forward calls on one cache.
///
/// Attach it to a `KVCache` (`cache.capture = AttentionCapture(...)`); each architecture calls
/// `record` once per layer right after RoPE, and the capture recomputes the probabilities from
/// Q·K itself (same scale, soft-cap, causal and sliding-window mask, GQA head mapping) with a
/// float64 softmax, so it never touches the attention kernel. Unlike the sliding layers' ring
/// buffers it keeps the full key history, so prompt + generated answer over several calls works.
///
/// Memory: probabilities are stored as the causal triangle, `L × H × T(T+1)/2` floats, plus
/// `L × T × K × D` key floats (and `L × T × H × D` query floats); `estimatedBytes` reports it up
/// front and `maxTokens` caps `T`. Not thread-safe: it belongs to its cache's thread.
public final class AttentionCapture {
    /// Default cap on the number of captured tokens.
    public static let defaultMaxTokens = 2048

    /// Number of layers, query heads, key/value heads and head dimension.
    public let layers: Int, heads: Int, kvHeads: Int, headDim: Int
    /// The most tokens this capture accepts.
    public let maxTokens: Int
    /// Whether post-RoPE queries are kept (probabilities are computed either way).
    public let keepsQueries: Bool
    /// Tokens captured so far (the same for every layer after a complete forward call).
    public var count: Int { layerCounts.min() ?? 0 }

    /// Per layer: (T, K, D) post-RoPE keys.
    private var keyRows: [[Float]]
    /// Per layer: (T, H, D) post-RoPE queries, empty unless `keepsQueries`.
    private var queryRows: [[Float]]
    /// Per layer: for each query position q, for each head h, q + 1 probabilities (keys 0…q).
    private var probabilityRows: [[Float]]
    /// Per layer: sliding window (0 = full attention), as last recorded.
    public private(set) var windows: [Int]
    /// Per layer: positions recorded.
    private var layerCounts: [Int]

    /// Creates an empty capture for a model shaped like `config`.
    public init(config: ModelConfig, maxTokens: Int = AttentionCapture.defaultMaxTokens, keepQueries: Bool = false) {
        layers = config.numHiddenLayers
        heads = config.numAttentionHeads
        kvHeads = config.numKeyValueHeads
        headDim = config.headDim
        self.maxTokens = maxTokens
        keepsQueries = keepQueries
        keyRows = Array(repeating: [], count: layers)
        queryRows = Array(repeating: [], count: layers)
        probabilityRows = Array(repeating: [], count: layers)
        windows = Array(repeating: 0, count: layers)
        layerCounts = Array(repeating: 0, count: layers)
    }

    /// The bytes a capture of `tokens` tokens needs for a model shaped like `config`.
    public static func estimatedBytes(config: ModelConfig, tokens: Int, keepQueries: Bool = false) -> Int {
        let l = config.numHiddenLayers
        let h = config.numAttentionHeads
        let d = config.headDim
        let triangle = tokens * (tokens + 1) / 2
        let floats =
            l * h * triangle + l * tokens * config.numKeyValueHeads * d + (keepQueries ? l * tokens * h * d : 0)
        return floats * MemoryLayout<Float>.size
    }

    /// Records one layer's post-RoPE queries and keys for a chunk at positions
    /// `start ..< start + tokens`, and computes that chunk's attention probabilities.
    ///
    /// `scale`, `softcap` (0 = none), `window` (0 = full) and `sinks` (per head, GPT-OSS; nil =
    /// none: a sink takes its share of the softmax, so a row then sums to less than 1) are the
    /// layer's own attention settings. Throws when the capture would exceed `maxTokens` or the chunk does not continue
    /// the captured sequence (a cache reset without a new capture).
    public func record(
        layer: Int,
        queries: UnsafePointer<Float>,  // (T, H, D)
        keys: UnsafePointer<Float>,  // (T, K, D)
        tokens: Int, start: Int, scale: Float, softcap: Float, window: Int,
        sinks: UnsafePointer<Float>? = nil  // (H)
    ) throws {
        guard layer >= 0, layer < layers else { throw AttentionError.badLayer(layer, layers: layers) }
        guard start == layerCounts[layer] else {
            throw AttentionError.discontinuous(layer: layer, expected: layerCounts[layer], got: start)
        }
        guard start + tokens <= maxTokens else {
            throw AttentionError.tooManyTokens(requested: start + tokens, limit: maxTokens)
        }
        let kvDim = kvHeads * headDim
        let qDim = heads * headDim
        keyRows[layer].append(contentsOf: UnsafeBufferPointer(start: keys, count: tokens * kvDim))
        if keepsQueries {
            queryRows[layer].append(contentsOf: UnsafeBufferPointer(start: queries, count: tokens * qDim))
        }
        windows[layer] = window
        let group = heads / kvHeads
        var rows: [Float] = []
        rows.reserveCapacity(tokens * heads * (start + tokens))
        var scores = [Double](repeating: 0, count: start + tokens)
        keyRows[layer].withUnsafeBufferPointer { allKeys in
            for t in 0..<tokens {
                let p = start + t
                for h in 0..<heads {
                    let qv = queries + (t * heads + h) * headDim
                    let kvh = h / group
                    var maxScore = -Double.infinity
                    for k in 0...p {
                        // matches transformers eager: causal, and kv > q - window on sliding layers
                        if window > 0 && k <= p - window {
                            scores[k] = -.infinity
                            continue
                        }
                        let kv = allKeys.baseAddress! + k * kvDim + kvh * headDim
                        var dot = 0.0
                        for d in 0..<headDim { dot += Double(qv[d]) * Double(kv[d]) }
                        var s = dot * Double(scale)
                        if softcap > 0 { s = tanh(s / Double(softcap)) * Double(softcap) }
                        scores[k] = s
                        maxScore = max(maxScore, s)
                    }
                    let sink = sinks.map { Double($0[h]) } ?? -.infinity
                    maxScore = max(maxScore, sink)
                    var sum = exp(sink - maxScore)
                    for k in 0...p where scores[k] > -.infinity {
                        scores[k] = exp(scores[k] - maxScore)
                        sum += scores[k]
                    }
                    for k in 0...p { rows.append(scores[k] > -.infinity ? Float(scores[k] / sum) : 0) }
                }
            }
        }
        probabilityRows[layer].append(contentsOf: rows)
        layerCounts[layer] = start + tokens
    }

    /// Forgets everything captured (keeps the shape and the cap).
    public func reset() {
        for l in 0..<layers {
            keyRows[l].removeAll(keepingCapacity: true)
            queryRows[l].removeAll(keepingCapacity: true)
            probabilityRows[l].removeAll(keepingCapacity: true)
            layerCounts[l] = 0
        }
    }

    /// The dense (T, T) probability map of `head` in `layer`: row = query, column = key, zeros
    /// above the diagonal and outside the window.
    public func map(layer: Int, head: Int) -> [Float] {
        let t = layerCounts[layer]
        var out = [Float](repeating: 0, count: t * t)
        probabilityRows[layer].withUnsafeBufferPointer { rows in
            var offset = 0
            for q in 0..<t {
                let rowStart = offset + head * (q + 1)
                for k in 0...q { out[q * t + k] = rows[rowStart + k] }
                offset += heads * (q + 1)
            }
        }
        return out
    }

    /// All heads' dense maps of `layer`: (H, T, T).
    public func maps(layer: Int) -> [[Float]] { (0..<heads).map { map(layer: layer, head: $0) } }

    /// (T, K, D) post-RoPE keys of `layer`.
    public func keys(layer: Int) -> [Float] { keyRows[layer] }

    /// (T, H, D) post-RoPE queries of `layer`; empty unless the capture keeps queries.
    public func queries(layer: Int) -> [Float] { queryRows[layer] }

    /// The bytes currently held.
    public var bytes: Int {
        (keyRows.map(\.count).reduce(0, +) + queryRows.map(\.count).reduce(0, +)
            + probabilityRows.map(\.count).reduce(0, +)) * MemoryLayout<Float>.size
    }
}
