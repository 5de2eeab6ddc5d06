/// How the rows of a matrix are stored, for kernels that read them without decoding.
public enum RawRowFormat: Sendable, Equatable {
    /// GGUF blocks of a ggml type, one row = `columns / blockSize` consecutive blocks.
    case ggml(GGMLType)
    /// MLX affine quantization: packed little-endian `bits`-bit values, one scale and one bias
    /// (of `scaleType`) per `groupSize` elements.
    case mlx(bits: Int, groupSize: Int, scaleType: SafetensorsDType)
    /// Plain floats (`f32`, `f16` or `bf16`).
    case float(SafetensorsDType)
}

/// The stored bytes of a `[rows, columns]` matrix, as fast kernels read them.
///
/// Pointers stay valid while `owner` (the mapping) is alive. Logical (Hugging Face) row `r` is
/// stored row `r` unless `permutedHeads` is set: then llama.cpp reordered the rows within each
/// of that many heads (see `GGUFTensor.storedIndex`).
public struct RawRows: @unchecked Sendable {
    /// The storage format.
    public let format: RawRowFormat
    /// Logical rows and row length.
    public let rows: Int, columns: Int
    /// Stored row 0.
    public let base: UnsafeRawPointer
    /// Bytes of one stored row (packed values only for MLX).
    public let rowBytes: Int
    /// Heads over which rows are permuted (nil: stored in logical order).
    public let permutedHeads: Int?
    /// MLX only: `(rows, columns / groupSize)` scales and biases.
    public let scales: UnsafeRawPointer?, biases: UnsafeRawPointer?
    /// Keeps the memory behind the pointers alive.
    public let owner: AnyObject

    /// Describes stored rows; the caller vouches that the pointers cover `rows × rowBytes` bytes.
    public init(
        format: RawRowFormat, rows: Int, columns: Int, base: UnsafeRawPointer, rowBytes: Int,
        permutedHeads: Int? = nil, scales: UnsafeRawPointer? = nil, biases: UnsafeRawPointer? = nil, owner: AnyObject
    ) {
        self.format = format
        self.rows = rows
        self.columns = columns
        self.base = base
        self.rowBytes = rowBytes
        self.permutedHeads = permutedHeads
        self.scales = scales
        self.biases = biases
        self.owner = owner
    }
}

/// A weight tensor whose stored rows a kernel may read directly.
///
/// `rawRows` is nil when the stored bytes alone do not give the logical values (a shifted Gemma
/// norm, a permuted 1-D bias, an empty tensor); callers then decode rows with `decodeRow`.
public protocol QuantizedRows {
    /// The stored rows, or nil when the tensor must be decoded row by row.
    var rawRows: RawRows? { get }
}

extension GGUFTensor: QuantizedRows {
    public var rawRows: RawRows? {
        // 3-D too: a mixture of experts' [E, out, in], whose row ranges are the experts' matrices.
        guard shape.count >= 2, shift == 0, rows > 0, columns > 0, columns % type.blockSize == 0 else { return nil }
        return RawRows(
            format: .ggml(type), rows: rows, columns: columns, base: file.pointer(at: offset), rowBytes: rowBytes,
            permutedHeads: rowMapHeads, owner: file)
    }
}

extension MLXQuantizedTensor: QuantizedRows {
    public var rawRows: RawRows? {
        guard shape.count == 2, rows > 0, scales.dtype == biases.dtype else { return nil }
        return RawRows(
            format: .mlx(bits: bits, groupSize: groupSize, scaleType: scales.dtype), rows: rows, columns: columns,
            base: packed.file.pointer(at: packed.offset), rowBytes: columns * bits / 8,
            scales: scales.file.pointer(at: scales.offset), biases: biases.file.pointer(at: biases.offset),
            owner: packed.file)
    }
}

extension SafetensorsTensor: QuantizedRows {
    public var rawRows: RawRows? {
        guard shape.count == 2, rows > 0, columns > 0, [.f32, .f16, .bf16].contains(dtype) else { return nil }
        return RawRows(
            format: .float(dtype), rows: rows, columns: columns, base: file.pointer(at: offset),
            rowBytes: columns * dtype.size, owner: file)
    }
}
