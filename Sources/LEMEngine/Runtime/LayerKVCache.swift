/// The keys and values one attention layer has seen, for incremental decoding.
///
/// Slots are addressed by `position % capacity`. A full-attention layer (`window == 0`) grows so
/// every position keeps its slot; a sliding layer is a ring buffer of `window + T - 1` slots for a
/// chunk of `T` new tokens (just `window` while decoding one token at a time), which is exactly
/// what the oldest query of the chunk can still see. Each slot records its absolute position
/// (−1 when empty) so the attention kernel can mask by position whatever the slot order.
///
/// A full-attention layer restored from a snapshot (`KVSnapshot.restore`) does not copy its rows:
/// it reads positions `0 ..< sharedCount` from the snapshot's immutable arrays (`shared`), which
/// every cache restored from it shares, and its own slots hold the positions after them (slot
/// `(position − sharedCount) % capacity`). Attention then runs over the two segments
/// (`Kernels.attention(segments:)`).
public final class LayerKVCache {
    /// Rows of positions `0 ..< count` read from a snapshot and shared with other caches.
    public struct SharedRows: Sendable {
        /// (≥ count, K, D)
        public let keys: [Float]
        /// (≥ count, K, D)
        public let values: [Float]
        /// `0 ..< count`, for the kernels' position masks.
        public let positions: [Int]
        /// Positions shared.
        public var count: Int { positions.count }
    }

    /// The shared rows before this layer's own slots (nil: every row is its own).
    public private(set) var shared: SharedRows?
    /// Positions held in `shared` (0 without it); own slots start at this position.
    public var sharedCount: Int { shared?.count ?? 0 }
    /// Keys and values per token: key/value heads × head dim.
    public let kvDim: Int
    /// Sliding window size, 0 for a full-attention layer.
    public let window: Int
    /// Number of slots.
    public private(set) var capacity: Int = 0
    /// (capacity, K, D)
    public private(set) var keys = FloatBuffer()
    /// (capacity, K, D)
    public private(set) var values = FloatBuffer()
    /// (capacity) absolute position per slot, −1 when empty.
    public private(set) var positions: [Int] = []

    /// Creates an empty cache for a layer with `kvDim` floats per token.
    public init(kvDim: Int, window: Int) {
        self.kvDim = kvDim
        self.window = window
    }

    /// Ensures the slots can hold a chunk of `newTokens` tokens ending at position `end - 1`
    /// without evicting anything a query of the chunk can see.
    public func prepare(newTokens: Int, end: Int) {
        let offset = sharedCount
        let required = window > 0 ? min(window + newTokens - 1, end) : end - offset
        guard required > capacity else { return }
        let newCapacity =
            window > 0 ? min(max(required, 2 * capacity), window + newTokens - 1) : max(required, 2 * capacity, 16)
        let newKeys = FloatBuffer(capacity: newCapacity * kvDim)
        let newValues = FloatBuffer(capacity: newCapacity * kvDim)
        var newPositions = [Int](repeating: -1, count: newCapacity)
        for slot in 0..<capacity where positions[slot] >= 0 {
            let p = positions[slot]
            let dst = (p - offset) % newCapacity
            (newKeys.pointer + dst * kvDim).update(from: keys.pointer + slot * kvDim, count: kvDim)
            (newValues.pointer + dst * kvDim).update(from: values.pointer + slot * kvDim, count: kvDim)
            newPositions[dst] = p
        }
        keys = newKeys
        values = newValues
        positions = newPositions
        capacity = newCapacity
    }

    /// Stores the key and value rows of one token at absolute `position` (after `prepare`).
    public func store(
        position: Int,
        key: UnsafePointer<Float>,  // (K, D)
        value: UnsafePointer<Float>  // (K, D)
    ) {
        let slot = (position - sharedCount) % capacity
        (keys.pointer + slot * kvDim).update(from: key, count: kvDim)
        (values.pointer + slot * kvDim).update(from: value, count: kvDim)
        positions[slot] = position
    }

    /// Forgets everything (keeps the allocation of its own slots, drops the shared rows).
    public func reset() {
        for i in positions.indices { positions[i] = -1 }
        shared = nil
    }

    /// Makes this empty full-attention layer read positions `0 ..< count` from `keys` and
    /// `values` ((≥ count, K, D) each) without copying them.
    func share(keys: [Float], values: [Float], count: Int) {
        precondition(window == 0 && positions.allSatisfy { $0 < 0 }, "LayerKVCache.share: not an empty full layer")
        precondition(keys.count >= count * kvDim && values.count >= count * kvDim, "LayerKVCache.share: short rows")
        shared = count > 0 ? SharedRows(keys: keys, values: values, positions: Array(0..<count)) : nil
    }

    /// Runs `body` with the shared rows as one run of slots for the kernels.
    func withSharedSegment<R>(_ shared: SharedRows, _ body: (Kernels.KeySegment) -> R) -> R {
        shared.keys.withUnsafeBufferPointer { k in
            shared.values.withUnsafeBufferPointer { v in
                shared.positions.withUnsafeBufferPointer { p in
                    body(
                        Kernels.KeySegment(
                            keys: k.baseAddress!, values: v.baseAddress!, positions: p.baseAddress!, slots: shared.count
                        ))
                }
            }
        }
    }

    /// Every position this layer holds, shared rows included, in increasing order.
    public var heldPositions: [Int] { Array(0..<sharedCount) + positions.filter { $0 >= 0 }.sorted() }

    /// The key and value rows of a held `position` (shared or own), for `body`.
    func withRows<R>(
        of position: Int, _ body: (_ key: UnsafePointer<Float>, _ value: UnsafePointer<Float>) -> R
    ) -> R {
        if let shared, position < shared.count {
            return shared.keys.withUnsafeBufferPointer { k in
                shared.values.withUnsafeBufferPointer { v in
                    body(k.baseAddress! + position * kvDim, v.baseAddress! + position * kvDim)
                }
            }
        }
        let slot = (position - sharedCount) % capacity
        return body(keys.pointer + slot * kvDim, values.pointer + slot * kvDim)
    }
}
