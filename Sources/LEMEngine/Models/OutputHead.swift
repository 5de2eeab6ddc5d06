import LEMFormats

/// The end of a decoder: the final RMSNorm and the output projection to the vocabulary, with
/// Gemma's optional final soft-capping.
struct OutputHead: Sendable {
    /// `lm_head.weight`, or the token embedding when tied. // [V, C]
    let weight: any WeightTensor
    /// The final norm, applied first.
    let norm: RMSNorm
    /// `cap · tanh(logit / cap)` on every logit, nil for none.
    let softcap: Float?
    /// The kernels' options (the model's).
    let options: EngineOptions

    /// Turns the final residual rows `rows` asks for into logits in `workspace.logits`: `(T, V)`
    /// for `.all`, `(1, V)` for `.last`; `decode`: the rows are independent single-token steps.
    func callAsFunction(
        _ x: UnsafePointer<Float>,  // (T, C)
        tokens t: Int, rows: LogitRows, workspace ws: Workspace, decode: Bool = false
    ) -> UnsafeBufferPointer<Float> {
        let c = weight.columns
        let vocabulary = weight.rows
        let first = rows == .all ? 0 : t - 1
        let count = t - first
        let n = ws.normed.pointer  // (count, C)
        norm(x + first * c, rows: count, out: n)
        let out = ws.logits.pointer  // (count, V)
        Kernels.matmul(
            n, weight: weight, kernel: MatrixKernel(weight), bias: nil, tokens: count, tile: ws.tile.pointer, out: out,
            options: options, decode: decode)
        if let softcap {
            for i in 0..<count * vocabulary { out[i] = Kernels.softcap(out[i], cap: softcap) }
        }
        return UnsafeBufferPointer(start: out, count: count * vocabulary)
    }
}
