import Foundation

extension LoRATraining {
    /// The adapter a run starts from, made to agree with `fine_tune_type`.
    ///
    /// `dora`: layers without a magnitude (a fresh adapter, or a resumed LoRA file) get `m` =
    /// the base weight's row norms, as mlx_lm's `DoRALinear.set_linear` does, so with `B = 0`
    /// training starts from the base model exactly; magnitudes read from a resumed DoRA file are
    /// kept. `lora`: an adapter carrying DoRA magnitudes is an error (mlx_lm would silently drop
    /// them).
    public func preparedAdapter(_ initial: LoRAAdapter, model: some LoRALossModel) throws -> LoRAAdapter {
        var adapter = initial
        if config.fineTuneType == "dora" {
            for i in adapter.weights.indices where adapter.weights[i].magnitude == nil {
                let w = adapter.weights[i]
                let norms = try model.baseRowNorms(layer: w.layer, module: w.module)
                guard norms.count == w.outputs else {
                    throw TrainingConfigError.invalid(
                        key: "fine_tune_type",
                        reason: "\(w.modulePath) has \(norms.count) outputs in the model, \(w.outputs) in the adapter")
                }
                adapter.weights[i].magnitude = norms
            }
        } else if let w = adapter.weights.first(where: { $0.magnitude != nil }) {
            throw TrainingConfigError.invalid(
                key: "fine_tune_type",
                reason:
                    "the adapter is DoRA (\(w.modulePath).m) but fine_tune_type is '\(config.fineTuneType)'; use dora")
        }
        return adapter
    }
}
