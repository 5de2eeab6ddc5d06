/// One tensor of a memory-mapped safetensors file.
///
/// Safetensors already uses the Hugging Face layout, so the logical shape is the stored shape.
/// `decodeRow` converts f16/bf16/f64 to f32 exactly and integer types by value; packed integer
/// tensors (MLX's U32 weights) are better read through `rawBytes`.
public struct SafetensorsTensor: WeightTensor {
    public let name: String
    public let shape: [Int]
    /// The stored element type.
    public let dtype: SafetensorsDType
    /// The mapping the bytes live in (kept alive by this tensor).
    public let file: MappedFile
    /// Absolute byte offset of the first element in `file`.
    public let offset: Int

    /// Creates a tensor over `file`'s bytes at `offset`; the loader has checked the extent.
    public init(name: String, shape: [Int], dtype: SafetensorsDType, file: MappedFile, offset: Int) {
        self.name = name
        self.shape = shape
        self.dtype = dtype
        self.file = file
        self.offset = offset
    }

    public var encoding: String { dtype.encodingName }
    public var storedBytes: Int { elementCount * dtype.size }

    /// The stored bytes, valid while this tensor (or its file) is alive.
    public var rawBytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: storedBytes == 0 ? nil : file.pointer(at: offset), count: storedBytes)
    }

    public func decodeRow(_ row: Int, into out: UnsafeMutablePointer<Float>) {
        let cols = columns
        guard cols > 0 else { return }
        let base = file.pointer(at: offset + row * cols * dtype.size)
        if dtype == .f32 {
            // Little-endian host: the stored bytes are the floats.
            UnsafeMutableRawPointer(out).copyMemory(from: base, byteCount: cols * 4)
            return
        }
        let t = dtype
        for c in 0..<cols { out[c] = t.load(base, c) }
    }
}
