/// The keys and values one attention layer has seen, for incremental decoding.
///
/// Slots are addressed by `position % capacity`. A full-attention layer (`window == 0`) grows so
/// every position keeps its slot; a sliding layer is a ring buffer of `window + T - 1` slots for a
/// chunk of `T` new tokens (just `window` while decoding one token at a time), which is exactly
/// what the oldest query of the chunk can still see. Each slot records its absolute position
/// (−1 when empty) so the attention kernel can mask by position whatever the slot order.
public final class LayerKVCache {
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
        let required = window > 0 ? min(window + newTokens - 1, end) : end
        guard required > capacity else { return }
        let newCapacity =
            window > 0 ? min(max(required, 2 * capacity), window + newTokens - 1) : max(required, 2 * capacity, 16)
        let newKeys = FloatBuffer(capacity: newCapacity * kvDim)
        let newValues = FloatBuffer(capacity: newCapacity * kvDim)
        var newPositions = [Int](repeating: -1, count: newCapacity)
        for slot in 0..<capacity where positions[slot] >= 0 {
            let p = positions[slot]
            let dst = p % newCapacity
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
        let slot = position % capacity
        (keys.pointer + slot * kvDim).update(from: key, count: kvDim)
        (values.pointer + slot * kvDim).update(from: value, count: kvDim)
        positions[slot] = position
    }

    /// Forgets everything (keeps the allocation).
    public func reset() {
        for i in positions.indices { positions[i] = -1 }
    }
}
