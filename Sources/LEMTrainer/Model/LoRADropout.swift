/// Seeded inverted dropout on the LoRA input, as mlx_lm's `LoRALinear` applies it:
/// `y = x Wᵀ + scale · (dropout(x) A) B` — the base path never sees dropout.
///
/// Each (step, layer, module) gets its own mask stream from a SplitMix64 generator seeded by
/// the run seed and those three numbers, so a recomputed block (gradient checkpointing) draws
/// exactly the mask of the original forward, and a run is reproducible from its seed. Kept
/// elements are scaled by 1/(1−p) (mlx `nn.Dropout`). mlx's own random stream is not reproduced.
public struct LoRADropout: Sendable {
    /// The probability of dropping an element.
    public var probability: Double
    /// The run seed.
    public var seed: UInt64
    /// The training step the masks belong to.
    public var step: Int

    /// The mask of one adapted module: 0 or 1/(1−p) per element. // (count)
    public func mask(layer: Int, module: String, count: Int) -> [Float] {
        var state =
            seed &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(step) &* 0xBF58_476D_1CE4_E5B9
            ^ UInt64(layer) &* 0x94D0_49BB_1331_11EB ^ UInt64(LoRATargets.allLinear.firstIndex(of: module) ?? 99)
            &* 0x2545_F491_4F6C_DD1D
        let keep = 1 - probability
        let threshold = UInt64(keep * 9_007_199_254_740_992)  // keep · 2^53
        let kept = Float(1 / keep)
        return (0..<count).map { _ in
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return (z >> 11) < threshold ? kept : 0
        }
    }
}
