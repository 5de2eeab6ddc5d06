/// An element type as safetensors names it in the header (`"dtype": "BF16"`).
public enum SafetensorsDType: String, Sendable, CaseIterable, Codable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8"
    case u64 = "U64", u32 = "U32", u16 = "U16", u8 = "U8"
    case bool = "BOOL"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f64, .i64, .u64: 8
        case .f32, .i32, .u32: 4
        case .f16, .bf16, .i16, .u16: 2
        case .i8, .u8, .bool: 1
        }
    }

    /// Whether decoding converts from a float encoding (rather than an integer's value).
    public var isFloat: Bool { self == .f64 || self == .f32 || self == .f16 || self == .bf16 }

    /// The lower-case encoding name used by `WeightTensor.encoding` (`f32`, `bf16`, `u32`, ...).
    public var encodingName: String { rawValue.lowercased() }

    /// Converts element `index` of `base` to a float: floats exactly, integers by value.
    @inline(__always)
    func load(_ base: UnsafeRawPointer, _ index: Int) -> Float {
        switch self {
        case .f32:
            Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)))
        case .f16:
            HalfFloat.f16ToFloat(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self)))
        case .bf16:
            HalfFloat.bf16ToFloat(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self)))
        case .f64:
            Float(
                Double(bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self)))
            )
        case .i64: Float(Int64(littleEndian: base.loadUnaligned(fromByteOffset: index * 8, as: Int64.self)))
        case .i32: Float(Int32(littleEndian: base.loadUnaligned(fromByteOffset: index * 4, as: Int32.self)))
        case .i16: Float(Int16(littleEndian: base.loadUnaligned(fromByteOffset: index * 2, as: Int16.self)))
        case .i8: Float(base.load(fromByteOffset: index, as: Int8.self))
        case .u64: Float(UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self)))
        case .u32: Float(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)))
        case .u16: Float(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self)))
        case .u8: Float(base.load(fromByteOffset: index, as: UInt8.self))
        case .bool: base.load(fromByteOffset: index, as: UInt8.self) != 0 ? 1 : 0
        }
    }
}
