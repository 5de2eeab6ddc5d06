/// An adapter as a trainer model's blocks read it during one step, in the model's scalar type:
/// the LoRA matrices keyed by `model.layers.N.<module>`, the shared scale and dropout, and the
/// DoRA layers' magnitudes and current row norms.
struct AdapterView<Scalar: TrainingScalar> {
    var matrices: [String: (a: [Scalar], b: [Scalar], rank: Int)]
    var scale: Scalar
    /// LoRA dropout on the low-rank path, nil for none (validation, the oracle).
    var dropout: LoRADropout?
    /// DoRA layers' magnitudes and row norms, keyed like `matrices`.
    var dora: [String: DoRAState<Scalar>] = [:]

    /// `adapter`'s matrices in `Scalar`; `rowNorms` gives a DoRA layer's `‖W + s·(A B)ᵀ‖` (nil
    /// when the model has no such layer), computed as each model computes its products.
    init(_ adapter: LoRAAdapter, dropout: LoRADropout?, rowNorms: (LoRAWeights, Scalar) -> [Scalar]?) {
        matrices = [:]
        for w in adapter.weights { matrices[w.modulePath] = (Scalar.converting(w.a), Scalar.converting(w.b), w.rank) }
        scale = Scalar(adapter.parameters.scale)
        self.dropout = dropout.flatMap { $0.probability > 0 ? $0 : nil }
        for w in adapter.weights {
            guard let m = w.magnitude, let norms = rowNorms(w, scale) else { continue }
            dora[w.modulePath] = DoRAState(magnitude: Scalar.converting(m), norms: norms)
        }
    }
}
