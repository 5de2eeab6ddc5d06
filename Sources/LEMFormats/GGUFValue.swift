/// One GGUF metadata value (`gguf_type`): integers, floats, bool, string, or an array of any of
/// these (arrays may nest).
///
/// Typed accessors convert between integer widths and between float widths, so callers can ask
/// for `int` whether the file stored a u32 or an i64.
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case uint64(UInt64)
    case int64(Int64)
    case float32(Float)
    case float64(Double)
    case bool(Bool)
    case string(String)
    /// Element type code and elements.
    case array(elementType: UInt32, [GGUFValue])

    /// GGUF's type codes.
    enum TypeCode: UInt32 {
        case uint8 = 0, int8, uint16, int16, uint32, int32, float32, bool, string, array, uint64, int64, float64
    }

    /// An integer value of any width (nil for non-integers or u64 beyond `Int.max`).
    public var int: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(v)
        default: nil
        }
    }

    /// A float value (f32 or f64), or an integer as a double.
    ///
    /// An f32 converts through its shortest decimal form, so `1e-5` stored as f32 reads back as
    /// the double `1e-5` (what the converter was given) rather than `9.99999974e-06`.
    public var double: Double? {
        switch self {
        case .float32(let v): v.isFinite ? (Double("\(v)") ?? Double(v)) : Double(v)
        case .float64(let v): v
        default: int.map(Double.init)
        }
    }

    /// A float value as f32.
    public var float: Float? { double.map(Float.init) }

    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var string: String? { if case .string(let s) = self { s } else { nil } }

    /// The elements of an array value.
    public var array: [GGUFValue]? { if case .array(_, let a) = self { a } else { nil } }

    /// The array's elements read by `read`; nil when this is not an array or `read` gives nil
    /// for any element.
    func elements<T>(_ read: (GGUFValue) -> T?) -> [T]? {
        guard let a = array else { return nil }
        var out: [T] = []
        out.reserveCapacity(a.count)
        for v in a {
            guard let t = read(v) else { return nil }
            out.append(t)
        }
        return out
    }

    /// An array whose elements are all strings (`tokenizer.ggml.tokens`, `.merges`).
    public var stringArray: [String]? { elements { $0.string } }

    /// An array whose elements are all numbers, as f32 (`tokenizer.ggml.scores`).
    public var floatArray: [Float]? { elements { $0.float } }

    /// An array whose elements are all integers (`tokenizer.ggml.token_type`).
    public var intArray: [Int]? { elements { $0.int } }

    /// A short rendering for listings: scalars in full, arrays by length (and first items).
    public var summary: String {
        switch self {
        case .string(let s): s.count > 80 ? "\"\(s.prefix(77))...\" (\(s.count) chars)" : "\"\(s)\""
        case .bool(let b): "\(b)"
        case .float32(let f): "\(f)"
        case .float64(let d): "\(d)"
        case .array(_, let a):
            "[\(a.prefix(3).map(\.summary).joined(separator: ", "))\(a.count > 3 ? ", ..." : "")] (\(a.count) items)"
        default: int.map(String.init) ?? "?"
        }
    }
}
