/// A named weight tensor as a model file stores it: possibly quantized, possibly memory mapped.
///
/// Every loader (safetensors, MLX quantized safetensors, GGUF) produces values of this protocol
/// with the *Hugging Face* layout and naming: a linear layer is `[out, in]`, rows are output
/// features, and row `r` decodes to `columns` floats. Loaders that store tensors differently
/// (GGUF's reversed dimension order, llama.cpp's permuted Q/K rows, Gemma's `1 + w` norms) undo
/// that so architectures never see format quirks. Weights stay in their stored encoding; callers
/// decode a row at a time, so a quantized model is never expanded to f32 as a whole.
public protocol WeightTensor: Sendable {
    /// The Hugging Face tensor name, e.g. `model.layers.0.self_attn.q_proj.weight`.
    var name: String { get }
    /// Logical shape, outermost first (`[out, in]` for a linear layer, `[n]` for a norm).
    var shape: [Int] { get }
    /// The stored encoding, e.g. `f32`, `bf16`, `q4_K`, `mlx4g64`.
    var encoding: String { get }
    /// Bytes the tensor occupies in its stored form.
    var storedBytes: Int { get }
    /// Decodes logical row `row` into `out[0 ..< columns]`.
    ///
    /// A 1-D tensor is a single row. `row` must be in `0 ..< rows`.
    func decodeRow(_ row: Int, into out: UnsafeMutablePointer<Float>)
}

extension WeightTensor {
    /// The number of logical rows: the product of every dimension but the last (1 for 1-D).
    public var rows: Int { shape.dropLast().reduce(1, *) }
    /// The length of one row: the last dimension.
    public var columns: Int { shape.last ?? 1 }
    /// The total number of elements.
    public var elementCount: Int { shape.reduce(1, *) }

    /// Decodes the whole tensor into a new f32 array, row-major.
    ///
    /// Meant for small tensors (norm weights, biases) and for tests; never call it on a model's
    /// large matrices in the inference path.
    public func decodeAll() -> [Float] {
        let cols = columns
        return [Float](unsafeUninitializedCapacity: elementCount) { buffer, count in
            for r in 0..<rows { decodeRow(r, into: buffer.baseAddress! + r * cols) }
            count = elementCount
        }
    }
}
