import LEMFormats

/// An RMSNorm layer: its weight, the convention it is stored in and its epsilon.
///
/// `out = x / sqrt(mean(x²) + eps) * (offset + w)` over rows of `weight.count` channels
/// (`Kernels.rmsNorm`). Llama and Qwen2 store `w` (`offset = 0`); Gemma stores the `1 + w` form's
/// `w` (`offset = 1`, transformers Gemma3RMSNorm).
struct RMSNorm: Sendable {
    /// (C) the per-channel scale.
    let weight: [Float]
    /// Added to every weight: 1 for Gemma's `1 + w`, 0 otherwise.
    let offset: Float
    let eps: Float

    /// Normalizes `rows` rows of `weight.count` channels; `out` may alias `x`.
    func callAsFunction(
        _ x: UnsafePointer<Float>,  // (rows, C)
        rows: Int,
        out: UnsafeMutablePointer<Float>  // (rows, C)
    ) {
        Kernels.rmsNorm(x, weight: weight, offset: offset, eps: eps, rows: rows, channels: weight.count, out: out)
    }
}

extension WeightLoader {
    /// The RMSNorm `name` (a `count`-element weight) in `offset` convention with the config's epsilon.
    func rmsNorm(_ name: String, count: Int, offset: Float, config: ModelConfig) throws -> RMSNorm {
        RMSNorm(weight: try vector(name, count: count), offset: offset, eps: Float(config.rmsNormEps))
    }
}
