import CLEMKernels
import LEMFormats

/// A weight matrix resolved once for the C kernels: its format, stored-row pointers and the row
/// permutation, so a matvec never goes through `any WeightTensor` per row.
///
/// Built from any tensor whose `rawRows` a kernel can read (GGUF Q4_0/Q4_1/Q5_0/Q5_1/Q8_0/Q4_K/
/// Q5_K/Q6_K/MXFP4, MLX affine 4/8-bit, f32/f16/bf16); nil for everything else, which then takes the
/// decode-row path.
public struct MatrixKernel: @unchecked Sendable {
    /// The C kernels' format of each GGML type they read.
    static let formats: [GGMLType: lem_format] = [
        .f32: LEM_FMT_F32, .f16: LEM_FMT_F16, .bf16: LEM_FMT_BF16, .q4_0: LEM_FMT_Q4_0, .q4_1: LEM_FMT_Q4_1,
        .q5_0: LEM_FMT_Q5_0, .q5_1: LEM_FMT_Q5_1, .q8_0: LEM_FMT_Q8_0, .q4_K: LEM_FMT_Q4_K, .q5_K: LEM_FMT_Q5_K,
        .q6_K: LEM_FMT_Q6_K, .mxfp4: LEM_FMT_MXFP4
    ]

    /// The C descriptor (pointers into the mapping `owner` keeps alive).
    let matrix: lem_matrix
    /// Keeps the mapped bytes alive.
    let owner: AnyObject
    /// Whether the activation must be quantized to 8-bit blocks first (all but the float formats).
    public let quantizesActivation: Bool

    /// Output rows.
    public var rows: Int { Int(matrix.rows) }
    /// Input columns.
    public var columns: Int { Int(matrix.cols) }

    /// Resolves `weight`, or nil when no fast kernel reads its encoding. An `InterleavedWeight`
    /// gives its kernel over the interleaved copy.
    public init?(_ weight: any WeightTensor) {
        if let interleaved = weight as? InterleavedWeight {
            self = interleaved.kernel
            return
        }
        guard let raw = (weight as? any QuantizedRows)?.rawRows else { return nil }
        self.init(raw)
    }

    init(matrix: lem_matrix, owner: AnyObject, quantizesActivation: Bool) {
        self.matrix = matrix
        self.owner = owner
        self.quantizesActivation = quantizesActivation
    }

    /// Resolves stored rows, or nil when no fast kernel reads their format.
    public init?(_ raw: RawRows) {
        var m = lem_matrix()
        switch raw.format {
        case .ggml(let type):
            guard let format = Self.formats[type] else { return nil }
            m.format = Int32(format.rawValue)
        case .mlx(let bits, let groupSize, let scaleType):
            guard bits == 4 || bits == 8, groupSize % 32 == 0 else { return nil }
            m.format = Int32(bits == 4 ? LEM_FMT_MLX4.rawValue : LEM_FMT_MLX8.rawValue)
            m.group_size = Int32(groupSize)
            switch scaleType {
            case .f32: m.scale_type = Int32(LEM_SCALE_F32.rawValue)
            case .f16: m.scale_type = Int32(LEM_SCALE_F16.rawValue)
            case .bf16: m.scale_type = Int32(LEM_SCALE_BF16.rawValue)
            default: return nil
            }
            m.scales = raw.scales?.assumingMemoryBound(to: UInt8.self)
            m.biases = raw.biases?.assumingMemoryBound(to: UInt8.self)
            guard m.scales != nil, m.biases != nil else { return nil }
        case .float(let dtype):
            switch dtype {
            case .f32: m.format = Int32(LEM_FMT_F32.rawValue)
            case .f16: m.format = Int32(LEM_FMT_F16.rawValue)
            case .bf16: m.format = Int32(LEM_FMT_BF16.rawValue)
            default: return nil
            }
        }
        guard raw.rows > 0, raw.rows <= Int(Int32.max), raw.columns <= Int(Int32.max),
            lem_format_supported(m.format, Int32(raw.columns)) != 0
        else { return nil }
        if let heads = raw.permutedHeads {
            guard heads > 0, raw.rows % heads == 0, (raw.rows / heads) % 2 == 0 else { return nil }
            m.perm_heads = Int32(heads)
        }
        m.rows = Int32(raw.rows)
        m.cols = Int32(raw.columns)
        m.base = raw.base.assumingMemoryBound(to: UInt8.self)
        m.row_bytes = raw.rowBytes
        matrix = m
        owner = raw.owner
        quantizesActivation = m.format > Int32(LEM_FMT_BF16.rawValue)
    }
}
