/// Bytes a test owns, standing in for a mapped file behind `RawRows`.
final class TestBytes {
    var bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }
}

/// A deterministic generator (a 64-bit LCG) so kernel-test failures reproduce.
struct TestRNG {
    var state: UInt64
    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state >> 11
    }
    mutating func float(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * Float(next() % 1_000_000) / 1_000_000 }
    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next() >> 7) }
}
