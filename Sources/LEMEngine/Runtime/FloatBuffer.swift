/// A growable, manually managed f32 buffer for kernel scratch space.
///
/// Kernels take raw pointers; keeping scratch in these buffers (owned by a `KVCache`'s
/// workspace) means a forward pass allocates nothing once the buffers have reached their size.
public final class FloatBuffer {
    /// The start of the buffer; valid until the next `reserve` that grows it.
    public private(set) var pointer: UnsafeMutablePointer<Float>
    /// The number of floats the buffer holds.
    public private(set) var capacity: Int

    /// Creates a zero-filled buffer of `capacity` floats.
    public init(capacity: Int = 0) {
        self.capacity = max(capacity, 1)
        pointer = .allocate(capacity: self.capacity)
        pointer.initialize(repeating: 0, count: self.capacity)
    }

    deinit { pointer.deallocate() }

    /// Makes room for at least `count` floats (contents are not preserved when it grows).
    @discardableResult
    public func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            pointer.deallocate()
            capacity = count
            pointer = .allocate(capacity: count)
            pointer.initialize(repeating: 0, count: count)
        }
        return pointer
    }

    /// The first `count` floats copied into an array.
    public func array(count: Int) -> [Float] {
        precondition(count <= capacity, "FloatBuffer.array: \(count) exceeds capacity \(capacity)")
        return Array(UnsafeBufferPointer(start: pointer, count: count))
    }
}
