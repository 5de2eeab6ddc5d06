/// One tensor of a GGUF file, presented in Hugging Face naming, shape and values.
///
/// The logical shape is GGUF's `ne` reversed (`[out, in]` for a linear layer). Two conversions
/// llama.cpp applies are undone here: for llama-architecture models the converter reorders the
/// rows of `q_proj`/`k_proj` within each head (`LlamaModel.permute`, interleaving the two rotary
/// halves), and for Gemma it stores RMSNorm weights as `w + 1`. `rowMapHeads` and `shift` record
/// these; `decodeRow` applies them, so callers always see the Hugging Face tensor.
public struct GGUFTensor: WeightTensor {
    /// The Hugging Face name.
    public let name: String
    /// The name in the GGUF file.
    public let ggufName: String
    public let shape: [Int]
    /// The stored block type.
    public let type: GGMLType
    /// The mapping the blocks live in.
    public let file: MappedFile
    /// Absolute offset of the first block.
    public let offset: Int
    /// Heads over which llama.cpp permuted the rows (nil: rows are in Hugging Face order).
    public let rowMapHeads: Int?
    /// Added to every decoded value (−1 undoes Gemma's `w + 1` norms, else 0).
    public let shift: Float

    /// Creates a tensor over `info`'s bytes; the reader has validated the extent.
    public init(name: String, info: GGUFFile.TensorInfo, file: MappedFile, rowMapHeads: Int? = nil, shift: Float = 0) {
        self.name = name
        self.ggufName = info.name
        self.shape = info.ne.reversed()
        self.type = info.type
        self.file = file
        self.offset = info.offset
        self.rowMapHeads = rowMapHeads
        self.shift = shift
    }

    public var encoding: String { type.name }
    public var storedBytes: Int { elementCount / type.blockSize * type.typeSize }
    /// Bytes of one stored row.
    public var rowBytes: Int { type.rowBytes(columns) }

    /// The stored row holding logical row `row` (the inverse of llama.cpp's permute).
    ///
    /// llama.cpp reshapes the `heads · headDim` rows as `(heads, 2, headDim/2)` and swaps the last
    /// two axes; so Hugging Face row `h·hd + t·hd/2 + j` is stored at `h·hd + 2j + t`.
    @inline(__always)
    public func storedIndex(_ row: Int, count: Int) -> Int {
        guard let heads = rowMapHeads else { return row }
        let hd = count / heads
        let half = hd / 2
        let h = row / hd
        let w = row % hd
        return h * hd + 2 * (w % half) + w / half
    }

    /// The stored blocks of logical row `row` (after undoing the permutation), for fast kernels.
    ///
    /// Rows from this pointer still need `shift` added; it is nonzero only for Gemma norms.
    public func rowPointer(_ row: Int) -> UnsafeRawPointer {
        file.pointer(at: offset + storedIndex(row, count: rows) * rowBytes)
    }

    public func decodeRow(_ row: Int, into out: UnsafeMutablePointer<Float>) {
        let cols = columns
        if rowMapHeads != nil && shape.count == 1 {
            // A permuted bias: its elements, not rows, are reordered.
            withUnsafeTemporaryAllocation(of: Float.self, capacity: cols) { tmp in
                type.dequantizeRow(file.pointer(at: offset), count: cols, into: tmp.baseAddress!)
                for i in 0..<cols { out[i] = tmp[storedIndex(i, count: cols)] + shift }
            }
            return
        }
        type.dequantizeRow(rowPointer(row), count: cols, into: out)
        if shift != 0 { for i in 0..<cols { out[i] += shift } }
    }
}
