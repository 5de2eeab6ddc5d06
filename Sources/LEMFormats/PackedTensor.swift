/// A weight tensor whose stored bytes were re-laid in memory at load, still in a stored encoding
/// the kernels read: plain floats (`f32`/`f16`/`bf16`) or ggml blocks (`mxfp4`).
///
/// GPT-OSS needs it (`GptOssExperts`): transformers stores its experts input-major with gate and
/// up interleaved, and the released checkpoint keeps MXFP4 codes and exponents in two tensors;
/// both are reordered into nn.Linear rows here. Values are copied bit for bit, never re-encoded.
public final class PackedTensor: WeightTensor, QuantizedRows, @unchecked Sendable {
    public let name: String
    public let shape: [Int]
    /// How each row is stored: `.float(dtype)` or `.ggml(type)`.
    public let format: RawRowFormat
    /// Bytes of one stored row.
    public let rowBytes: Int
    /// `rows × rowBytes` bytes, owned (immutable after `init`).
    let bytes: UnsafeMutableRawPointer

    /// Allocates the tensor and lets `fill` write its `rows × rowBytes` bytes (zeroed first).
    ///
    /// `format` must be a float or a decodable ggml type whose block size divides the last dimension.
    public init(
        name: String, shape: [Int], format: RawRowFormat, fill: (UnsafeMutableRawBufferPointer) throws -> Void
    ) rethrows {
        self.name = name
        self.shape = shape
        self.format = format
        let columns = shape.last ?? 1
        switch format {
        case .float(let dtype): rowBytes = columns * dtype.size
        case .ggml(let type): rowBytes = type.rowBytes(columns)
        case .mlx: preconditionFailure("PackedTensor holds floats or ggml blocks")
        }
        let count = max(1, shape.dropLast().reduce(1, *) * rowBytes)
        bytes = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 64)
        bytes.initializeMemory(as: UInt8.self, repeating: 0, count: count)
        try fill(UnsafeMutableRawBufferPointer(start: bytes, count: count))
    }

    deinit { bytes.deallocate() }

    public var encoding: String {
        switch format {
        case .float(let dtype): dtype.encodingName
        case .ggml(let type): type.name
        case .mlx: "mlx"
        }
    }

    public var storedBytes: Int { rows * rowBytes }

    public func decodeRow(_ row: Int, into out: UnsafeMutablePointer<Float>) {
        let src = UnsafeRawPointer(bytes + row * rowBytes)
        switch format {
        case .float(let dtype):
            for c in 0..<columns { out[c] = dtype.load(src, c) }
        case .ggml(let type):
            type.dequantizeRow(src, count: columns, into: out)
        case .mlx:
            break
        }
    }

    public var rawRows: RawRows? {
        guard shape.count >= 2, rows > 0, columns > 0 else { return nil }
        return RawRows(
            format: format, rows: rows, columns: columns, base: UnsafeRawPointer(bytes), rowBytes: rowBytes, owner: self
        )
    }
}
