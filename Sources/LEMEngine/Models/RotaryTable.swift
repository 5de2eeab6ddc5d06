/// The rotary cosines and sines of one chunk's positions for one RoPE base, filled into the
/// workspace once per forward pass and read by every layer that uses that base.
struct RotaryTable {
    let cos: UnsafeMutablePointer<Float>  // (T, D/2)
    let sin: UnsafeMutablePointer<Float>  // (T, D/2)

    /// Fills `cos` and `sin` for `positions` from `inverseFrequencies` (`Kernels.ropeTable`), both
    /// multiplied by `attentionFactor` when it is not 1 (YaRN; transformers scales them in f32).
    init(
        cos: FloatBuffer, sin: FloatBuffer, positions: [Int], inverseFrequencies: [Float],  // (T), (D/2)
        attentionFactor: Float = 1
    ) {
        let cosOut = cos.pointer
        let sinOut = sin.pointer
        positions.withUnsafeBufferPointer { pos in
            Kernels.ropeTable(
                positions: pos.baseAddress!, count: pos.count, inverseFrequencies: inverseFrequencies,
                half: inverseFrequencies.count, cos: cosOut, sin: sinOut)
        }
        if attentionFactor != 1 {
            let n = positions.count * inverseFrequencies.count
            for i in 0..<n {
                cosOut[i] *= attentionFactor
                sinOut[i] *= attentionFactor
            }
        }
        self.cos = cosOut
        self.sin = sinOut
    }
}
