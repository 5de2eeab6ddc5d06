import Foundation

/// The two low-rank matrices adapting one linear layer, in mlx_lm's layout:
/// `y = x Wᵀ + scale · (x A) B` with `A` (in, rank) = `lora_a` and `B` (rank, out) = `lora_b`.
public struct LoRAWeights: Sendable, Equatable {
    /// The transformer block index.
    public var layer: Int
    /// The module path inside the block, e.g. `self_attn.q_proj` or `mlp.down_proj`.
    public var module: String
    public var inputs: Int
    public var outputs: Int
    public var rank: Int
    /// `lora_a`. // (I, R)
    public var a: [Float]
    /// `lora_b`. // (R, O)
    public var b: [Float]
    /// DoRA's per-output magnitude `m` (mlx_lm `<module>.m`), nil for plain LoRA. // (O)
    public var magnitude: [Float]? = nil

    /// Creates adapter weights; the buffers must hold `inputs·rank` and `rank·outputs` values.
    public init(layer: Int, module: String, inputs: Int, outputs: Int, rank: Int, a: [Float], b: [Float]) {
        precondition(a.count == inputs * rank && b.count == rank * outputs, "LoRA buffer sizes do not match the shape")
        self.layer = layer
        self.module = module
        self.inputs = inputs
        self.outputs = outputs
        self.rank = rank
        self.a = a
        self.b = b
    }

    /// mlx_lm's initialisation: `A ~ U(−1/√in, 1/√in)`, `B = 0`, so training starts from the
    /// base model exactly. (mlx's own random stream is not reproduced.)
    public static func initialized(
        layer: Int, module: String, inputs: Int, outputs: Int, rank: Int,
        using random: inout some RandomNumberGenerator
    ) -> LoRAWeights {
        let bound = Float(1 / Double(inputs).squareRoot())
        let a = (0..<inputs * rank).map { _ in Float.random(in: -bound...bound, using: &random) }
        return LoRAWeights(
            layer: layer, module: module, inputs: inputs, outputs: outputs, rank: rank,
            a: a, b: [Float](repeating: 0, count: rank * outputs))
    }

    /// The module's name in the model: `model.layers.N.<module>`.
    public var modulePath: String { "model.layers.\(layer).\(module)" }

    /// The weight delta `scale · (A B)ᵀ` in Hugging Face `[out, in]` layout, as fusing adds it. // (O, I)
    public func delta(scale: Float) -> [Float] {
        var result = [Float](repeating: 0, count: outputs * inputs)
        for o in 0..<outputs {
            for i in 0..<inputs {
                var sum: Float = 0
                for r in 0..<rank { sum += a[i * rank + r] * b[r * outputs + o] }
                result[o * inputs + i] = scale * sum
            }
        }
        return result
    }
}

/// The block-relative module paths of the linear layers a transformer block has (Llama,
/// Qwen2 and Gemma 3 share these names): mlx_lm adapts all of them unless `keys` narrows it.
public enum LoRATargets {
    /// Every linear layer of a block, attention first.
    public static let allLinear = [
        "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
        "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"
    ]
}
