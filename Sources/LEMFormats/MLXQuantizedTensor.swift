/// A linear or embedding weight quantized the way MLX stores it: affine groups packed into U32.
///
/// MLX keeps three tensors per quantized module: `X.weight` (U32, shape `[out, in·bits/32]`),
/// `X.scales` and `X.biases` (f16/bf16/f32, shape `[out, in/groupSize]`). Row `r`'s elements form
/// a little-endian bit stream, element `i` in bits `[i·bits, (i+1)·bits)`: for 4 bits that is 8
/// nibbles per u32, low nibble first; for 3 and 6 bits the values straddle bytes (8 values in 3
/// bytes, 4 values in 3 bytes) exactly as mlx's `extract_bits`. Element `i` of row `r` is
/// `scales[r, i/g] · q + biases[r, i/g]` (mlx `dequantize`, affine mode), computed here in f32.
/// The logical shape is the unquantized `[out, in]`; rows are decoded from the packed form.
public struct MLXQuantizedTensor: WeightTensor {
    public let name: String
    public let shape: [Int]
    /// Bits per element: 2, 3, 4, 5, 6 or 8.
    public let bits: Int
    /// Elements sharing one scale and bias.
    public let groupSize: Int
    /// The packed U32 weights.
    public let packed: SafetensorsTensor
    /// Per-group scales.
    public let scales: SafetensorsTensor
    /// Per-group biases.
    public let biases: SafetensorsTensor

    /// The bit widths this reader decodes.
    public static let supportedBits = [2, 3, 4, 5, 6, 8]

    /// Wraps the three tensors, checking that their shapes agree with `bits` and `groupSize`.
    public init(
        name: String, packed: SafetensorsTensor, scales: SafetensorsTensor, biases: SafetensorsTensor,
        bits: Int, groupSize: Int
    ) throws {
        let url = packed.file.url
        guard Self.supportedBits.contains(bits) else {
            throw FormatError(
                url, tensor: name, "MLX quantization with \(bits) bits is not supported (supported: 2, 3, 4, 5, 6, 8)")
        }
        guard groupSize > 0, groupSize % 8 == 0 else {
            throw FormatError(url, tensor: name, "group size \(groupSize) must be a positive multiple of 8")
        }
        guard packed.dtype == .u32, let packedCols = packed.shape.last, packed.shape.count >= 1 else {
            throw FormatError(
                url, tensor: name, "quantized weight must be U32, found \(packed.dtype.rawValue) \(packed.shape)")
        }
        guard (packedCols * 32) % bits == 0 else {
            throw FormatError(
                url, tensor: name, "\(packedCols) packed u32 columns do not hold whole \(bits)-bit values")
        }
        let columns = packedCols * 32 / bits
        let lead = Array(packed.shape.dropLast())
        let groupShape = lead + [columns / groupSize]
        for (what, t) in [("scales", scales), ("biases", biases)] {
            guard t.dtype.isFloat else {
                throw FormatError(
                    t.file.url, tensor: t.name, "MLX \(what) must be a float type, found \(t.dtype.rawValue)")
            }
            guard columns % groupSize == 0, t.shape == groupShape else {
                throw FormatError(
                    t.file.url, tensor: t.name,
                    "shape \(t.shape) does not match weight \(packed.shape) at \(bits) bits, group size \(groupSize) (expected \(groupShape))"
                )
            }
        }
        self.name = name
        self.shape = lead + [columns]
        self.bits = bits
        self.groupSize = groupSize
        self.packed = packed
        self.scales = scales
        self.biases = biases
    }

    public var encoding: String { "mlx\(bits)g\(groupSize)" }
    public var storedBytes: Int { packed.storedBytes + scales.storedBytes + biases.storedBytes }

    /// The quantized integer of element `col` in a row's packed bytes (the naive reference).
    @inline(__always)
    static func extract(_ rowBytes: UnsafeRawPointer, _ col: Int, bits: Int, rowByteCount: Int) -> UInt32 {
        let bit = col * bits
        let byte = bit >> 3
        var window = UInt32(rowBytes.load(fromByteOffset: byte, as: UInt8.self))
        if byte + 1 < rowByteCount { window |= UInt32(rowBytes.load(fromByteOffset: byte + 1, as: UInt8.self)) << 8 }
        return (window >> UInt32(bit & 7)) & ((1 << UInt32(bits)) - 1)
    }

    public func decodeRow(_ row: Int, into out: UnsafeMutablePointer<Float>) {
        let cols = columns
        let rowByteCount = cols * bits / 8
        let q = packed.file.pointer(at: packed.offset + row * rowByteCount)
        let groups = cols / groupSize
        let sBase = scales.file.pointer(at: scales.offset + row * groups * scales.dtype.size)
        let bBase = biases.file.pointer(at: biases.offset + row * groups * biases.dtype.size)
        for g in 0..<groups {
            let s = scales.dtype.load(sBase, g)
            let b = biases.dtype.load(bBase, g)
            let start = g * groupSize
            switch bits {
            case 4:
                // Two values per byte, low nibble first.
                for i in stride(from: start, to: start + groupSize, by: 2) {
                    let byte = q.load(fromByteOffset: i >> 1, as: UInt8.self)
                    out[i] = s * Float(byte & 0x0F) + b
                    out[i + 1] = s * Float(byte >> 4) + b
                }
            case 8:
                for i in start..<start + groupSize { out[i] = s * Float(q.load(fromByteOffset: i, as: UInt8.self)) + b }
            default:
                for i in start..<start + groupSize {
                    out[i] = s * Float(Self.extract(q, i, bits: bits, rowByteCount: rowByteCount)) + b
                }
            }
        }
    }
}
