/// A ggml tensor element type as GGUF records it (`ggml_type`), with its block geometry.
///
/// Quantized types store `blockSize` elements in `typeSize` bytes; a row of `n` elements is
/// `n / blockSize` consecutive blocks.
public enum GGMLType: UInt32, Sendable, CaseIterable {
    case f32 = 0
    case f16 = 1
    case q4_0 = 2
    case q4_1 = 3
    case q5_0 = 6
    case q5_1 = 7
    case q8_0 = 8
    case q8_1 = 9
    case q2_K = 10
    case q3_K = 11
    case q4_K = 12
    case q5_K = 13
    case q6_K = 14
    case q8_K = 15
    case i8 = 24
    case i16 = 25
    case i32 = 26
    case i64 = 27
    case f64 = 28
    case bf16 = 30
    case mxfp4 = 39

    /// Elements of a super-block in the K-quants.
    public static let qkK = 256

    /// Elements per block (1 for plain types).
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16, .f64, .i8, .i16, .i32, .i64: 1
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q8_1, .mxfp4: 32
        case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .q8_K: Self.qkK
        }
    }

    /// Bytes per block.
    public var typeSize: Int {
        switch self {
        case .f32, .i32: 4
        case .f16, .bf16, .i16: 2
        case .f64, .i64: 8
        case .i8: 1
        case .q4_0: 2 + 16  // d, qs[16]
        case .q4_1: 2 + 2 + 16  // d, m, qs[16]
        case .q5_0: 2 + 4 + 16  // d, qh[4], qs[16]
        case .q5_1: 2 + 2 + 4 + 16  // d, m, qh[4], qs[16]
        case .q8_0: 2 + 32  // d, qs[32]
        case .q8_1: 2 + 2 + 32  // d, s, qs[32]
        case .q2_K: 16 + 64 + 2 + 2  // scales[16], qs[64], d, dmin
        case .q3_K: 32 + 64 + 12 + 2  // hmask[32], qs[64], scales[12], d
        case .q4_K: 2 + 2 + 12 + 128  // d, dmin, scales[12], qs[128]
        case .q5_K: 2 + 2 + 12 + 32 + 128  // d, dmin, scales[12], qh[32], qs[128]
        case .q6_K: 128 + 64 + 16 + 2  // ql[128], qh[64], scales[16], d
        case .q8_K: 4 + 256 + 32  // d (f32), qs[256], bsums[16] (i16)
        case .mxfp4: 1 + 16  // e (E8M0), qs[16]
        }
    }

    /// ggml's name for the type (`q4_K`, `f32`, ...), used as `WeightTensor.encoding`.
    public var name: String {
        switch self {
        case .f32: "f32"
        case .f16: "f16"
        case .bf16: "bf16"
        case .f64: "f64"
        case .i8: "i8"
        case .i16: "i16"
        case .i32: "i32"
        case .i64: "i64"
        case .q4_0: "q4_0"
        case .q4_1: "q4_1"
        case .q5_0: "q5_0"
        case .q5_1: "q5_1"
        case .q8_0: "q8_0"
        case .q8_1: "q8_1"
        case .q2_K: "q2_K"
        case .q3_K: "q3_K"
        case .q4_K: "q4_K"
        case .q5_K: "q5_K"
        case .q6_K: "q6_K"
        case .q8_K: "q8_K"
        case .mxfp4: "mxfp4"
        }
    }

    /// Whether this reader can decode the type (`q8_1`/`q8_K` are intermediate-only in ggml).
    public var isDecodable: Bool { self != .q8_1 && self != .q8_K }

    /// Bytes a row of `elements` elements occupies (`elements` must be a multiple of `blockSize`).
    public func rowBytes(_ elements: Int) -> Int { elements / blockSize * typeSize }
}
