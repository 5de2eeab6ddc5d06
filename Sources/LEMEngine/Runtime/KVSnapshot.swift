import LEMFormats

/// An immutable copy of a `KVCache` after some tokens: what a later generation restores instead
/// of recomputing those tokens (`PrefixCache`).
///
/// Each layer keeps the positions its cache still held, in position order: every position for a
/// full-attention layer, the ring's contents for a sliding one. Restoring never changes the
/// snapshot: a full-attention layer of the restored cache reads the snapshot's rows in place
/// (every cache restored from it shares them; `LayerKVCache.shared`), a sliding layer copies the
/// at most `window − 1` rows a later query can see.
///
/// A sliding layer of window `W` restored at length `L` needs positions `L − W + 1 ..< L` (what the
/// next query can see); a snapshot whose ring has dropped some of them cannot serve `L` — the
/// rule `canRestore(length:)` states. Legend: N positions held, K key/value heads, D head dim.
public final class KVSnapshot: Sendable {
    /// One layer's held rows.
    public struct Layer: Sendable {
        /// Sliding window size, 0 for full attention.
        public let window: Int
        /// The first position held; the layer holds `first ..< count` of the snapshot.
        public let first: Int
        /// (N, K, D)
        public let keys: [Float]
        /// (N, K, D)
        public let values: [Float]

        /// The shortest length this layer can be restored at (every length up to the snapshot's
        /// count when it holds position 0).
        var shortestRestorable: Int { first == 0 ? 0 : first + window - 1 }
    }

    /// The tokens whose keys and values these are (position i holds `tokens[i]`).
    public let tokens: [Int]
    /// One entry per transformer layer.
    public let layers: [Layer]
    /// Floats per token and layer (key/value heads × head dim).
    public let kvDim: Int

    /// Positions held: `tokens.count`.
    public var count: Int { tokens.count }

    /// Bytes of keys and values held.
    public var bytes: Int { layers.reduce(0) { $0 + 4 * ($1.keys.count + $1.values.count) } + 8 * tokens.count }

    /// Copies `cache`'s state; `tokens` must be the tokens it has processed (`cache.count` of them).
    public init(cache: KVCache, tokens: [Int]) {
        precondition(tokens.count == cache.count, "KVSnapshot: \(tokens.count) tokens for a cache of \(cache.count)")
        self.tokens = tokens
        kvDim = cache.layers.first?.kvDim ?? 0
        layers = cache.layers.map { $0.snapshot(end: tokens.count) }
    }

    /// A snapshot of `layers` read back from a file (`PromptCacheFile`).
    init(tokens: [Int], layers: [Layer], kvDim: Int) {
        self.tokens = tokens
        self.layers = layers
        self.kvDim = kvDim
    }

    /// Whether a cache restored at `length` (≤ `count`) continues exactly as the original did:
    /// every sliding layer either holds position 0 or still holds the `window − 1` positions before
    /// `length` (length 0, the empty cache, always).
    public func canRestore(length: Int) -> Bool {
        guard length >= 0, length <= count else { return false }
        return length == 0 || layers.allSatisfy { length >= $0.shortestRestorable }
    }

    /// Whether every length this snapshot can restore, `other` can restore too (`other` extending
    /// this snapshot's tokens): then this one is redundant.
    func isCovered(by other: KVSnapshot) -> Bool {
        guard other.count >= count, other.tokens.starts(with: tokens) else { return false }
        for (mine, theirs) in zip(layers, other.layers) where theirs.first > 0 {
            guard mine.first >= theirs.first else { return false }
        }
        return true
    }

    /// A fresh cache for `config` holding this snapshot's first `length` positions: full-attention
    /// layers share the snapshot's rows (copy them when `sharing` is false: the A/B of
    /// `lem bench-speed --copy-prefix`), sliding layers copy theirs.
    ///
    /// Precondition: `canRestore(length:)` and a config of the same shape.
    public func restore(length: Int, config: ModelConfig, sharing: Bool = true) -> KVCache {
        precondition(canRestore(length: length), "KVSnapshot.restore: length \(length) cannot be restored")
        let cache = KVCache(config: config)
        precondition(
            cache.layers.count == layers.count && cache.layers.first?.kvDim ?? 0 == kvDim,
            "KVSnapshot.restore: the cache is shaped for another model")
        for (layer, held) in zip(cache.layers, layers) {
            layer.restore(held, length: length, sharing: sharing)
        }
        cache.advance(by: length)
        return cache
    }
}

extension LayerKVCache {
    /// The positions this layer holds before `end`, in position order.
    func snapshot(end: Int) -> KVSnapshot.Layer {
        let offset = sharedCount
        var first = end
        // Own positions are stored in order, so what is held is a run ending at end − 1; shared
        // rows hold everything before it.
        while first > offset, capacity > 0, positions[(first - 1 - offset) % capacity] == first - 1 { first -= 1 }
        if first == offset { first = 0 }
        let n = end - first
        var k = [Float](repeating: 0, count: n * kvDim)
        var v = [Float](repeating: 0, count: n * kvDim)
        k.withUnsafeMutableBufferPointer { kb in
            v.withUnsafeMutableBufferPointer { vb in
                for i in 0..<n {
                    withRows(of: first + i) { key, value in
                        (kb.baseAddress! + i * kvDim).update(from: key, count: kvDim)
                        (vb.baseAddress! + i * kvDim).update(from: value, count: kvDim)
                    }
                }
            }
        }
        return KVSnapshot.Layer(window: window, first: first, keys: k, values: v)
    }

    /// Fills this (empty) layer with `held`'s positions before `length` that a query at
    /// `length` or later can see: shared in place for a full-attention layer holding position 0
    /// (with `sharing`), copied otherwise.
    func restore(_ held: KVSnapshot.Layer, length: Int, sharing: Bool) {
        if sharing, window == 0, held.first == 0 {
            share(keys: held.keys, values: held.values, count: length)
            return
        }
        let from = window > 0 ? max(held.first, length - window + 1, 0) : held.first
        guard length > from else { return }
        prepare(newTokens: 1, end: length)
        held.keys.withUnsafeBufferPointer { k in
            held.values.withUnsafeBufferPointer { v in
                for p in from..<length {
                    let row = (p - held.first) * kvDim
                    store(position: p, key: k.baseAddress! + row, value: v.baseAddress! + row)
                }
            }
        }
    }
}
