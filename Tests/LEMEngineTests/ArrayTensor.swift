import LEMEngine
import LEMFormats

/// An in-memory f32 `WeightTensor` for tests.
struct ArrayTensor: WeightTensor {
    let name: String
    let shape: [Int]
    let data: [Float]
    var encoding: String { "f32" }
    var storedBytes: Int { data.count * 4 }

    func decodeRow(_ row: Int, into out: UnsafeMutablePointer<Float>) {
        let cols = columns
        for i in 0..<cols { out[i] = data[row * cols + i] }
    }

    /// A tensor of uniform random values in `[-scale, scale)`.
    static func random(_ name: String, _ shape: [Int], scale: Float, rng: inout Xoshiro256) -> ArrayTensor {
        let count = shape.reduce(1, *)
        return ArrayTensor(
            name: name, shape: shape, data: (0..<count).map { _ in (rng.nextUnitFloat() * 2 - 1) * scale })
    }
}

/// Uniform random floats in `[-scale, scale)`.
func randomFloats(_ count: Int, scale: Float = 1, rng: inout Xoshiro256) -> [Float] {
    (0..<count).map { _ in (rng.nextUnitFloat() * 2 - 1) * scale }
}
