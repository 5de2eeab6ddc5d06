/// SplitMix64 (Steele, Lea and Flood, 2014), the generator of Java's `SplittableRandom`: a
/// 64-bit state advanced by 0x9E3779B97F4A7C15 and mixed by two xor-shift-multiplies.
///
/// Chosen for the consensus bootstrap because it is four lines in any language: the reference
/// script (`Scripts/consensus_reference.py`) draws the same resamples, so intervals match exactly.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The state after the last draw.
    public private(set) var state: UInt64

    /// Creates a generator; the first value is the mix of `seed &+ 0x9E3779B97F4A7C15`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform value in [0, 1): the top 53 bits of `next()` over 2⁵³.
    public mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// An index below `n` as `next() % n` (modulo bias below n / 2⁶⁴, kept for reproducibility).
    public mutating func index(below n: Int) -> Int {
        precondition(n > 0, "index(below:) needs a positive bound")
        return Int(next() % UInt64(n))
    }
}
