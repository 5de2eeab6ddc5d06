/// numpy's legacy global random generator (`np.random.seed` / `np.random.permutation`):
/// MT19937 seeded with `init_genrand`, and the Fisher–Yates shuffle numpy's `RandomState`
/// uses, so batch orders match mlx_lm's `iterate_batches` for the same `seed`.
///
/// mlx_lm seeds numpy's global generator once with `seed` and every call to `iterate_batches`
/// (each training epoch and each validation pass) draws one permutation from it; the trainer
/// models that by sharing one `NumpyRandomState` across those calls in the same order.
public struct NumpyRandomState: RandomNumberGenerator, Sendable {
    private var key = [UInt32](repeating: 0, count: 624)
    private var position = 624

    /// Seeds like `np.random.seed(seed)` for a seed in 0 ..< 2³².
    public init(seed: UInt32) {
        var s = seed
        for i in 0..<624 {
            key[i] = s
            s = 1_812_433_253 &* (s ^ (s >> 30)) &+ UInt32(i + 1)
        }
    }

    /// The next 32-bit output of MT19937 (tempered).
    public mutating func nextUInt32() -> UInt32 {
        if position >= 624 { regenerate() }
        var y = key[position]
        position += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        y ^= y >> 18
        return y
    }

    private mutating func regenerate() {
        let upper: UInt32 = 0x8000_0000
        let lower: UInt32 = 0x7FFF_FFFF
        let matrix: UInt32 = 0x9908_B0DF
        for i in 0..<624 {
            let y = (key[i] & upper) | (key[(i + 1) % 624] & lower)
            key[i] = key[(i + 397) % 624] ^ (y >> 1) ^ ((y & 1) != 0 ? matrix : 0)
        }
        position = 0
    }

    /// 64 random bits from two 32-bit outputs (high word first, as numpy's `next_uint64`).
    public mutating func next() -> UInt64 {
        (UInt64(nextUInt32()) << 32) | UInt64(nextUInt32())
    }

    /// A uniform integer in 0 ... maximum by masked rejection (numpy's `random_interval`).
    public mutating func interval(_ maximum: Int) -> Int {
        if maximum == 0 { return 0 }
        var mask = UInt64(maximum)
        for shift in [1, 2, 4, 8, 16, 32] { mask |= mask >> UInt64(shift) }
        if maximum <= 0xFFFF_FFFF {
            while true {
                let value = UInt64(nextUInt32()) & mask
                if value <= UInt64(maximum) { return Int(value) }
            }
        }
        while true {
            let value = ((UInt64(nextUInt32()) << 32) | UInt64(nextUInt32())) & mask
            if value <= UInt64(maximum) { return Int(value) }
        }
    }

    /// `np.random.permutation(n)`: shuffles 0 ..< n from the last index down.
    public mutating func permutation(_ n: Int) -> [Int] {
        var result = Array(0..<n)
        var i = n - 1
        while i >= 1 {
            let j = interval(i)
            result.swapAt(i, j)
            i -= 1
        }
        return result
    }
}
