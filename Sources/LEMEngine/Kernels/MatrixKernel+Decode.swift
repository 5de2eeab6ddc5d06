import CLEMKernels

extension MatrixKernel {
    /// Decodes stored row `row` to f32 on the calling thread through the C kernels.
    ///
    /// The same values as the tensor's own `decodeRow`, without the per-block Swift dispatch;
    /// the LoRA trainer decodes its frozen weight tiles with it (from its own worker threads,
    /// so it never touches the kernel pool).
    public func decodeRow(_ row: Int, into out: UnsafeMutablePointer<Float>) {  // out: (columns)
        withUnsafePointer(to: matrix) { m in lem_dequantize_row(m, Int32(row), out) }
        withExtendedLifetime(owner) {}
    }
}
