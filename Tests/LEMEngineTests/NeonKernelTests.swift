import CLEMKernels
import CLEMNeonEmulation
import Foundation
import LEMFormats
import Testing

/// The arm64 NEON row dots (`Sources/CLEMKernels/dot_neon_body.h`), run here through SIMDe, against
/// the scalar oracle on every 8-bit-activation format they read: bit for bit (the integer dot of a
/// block is exact, the float arithmetic is the oracle's, expression for expression), for the `sdot`
/// variant and the base ARMv8 one, on random blocks and on blocks at the integer extremes.
@Suite(
    "NEON kernels through SIMDe",
    .enabled(
        if: lem_neon_emulation_available() == 1, "SIMDe headers absent at build time: apt-get install libsimde-dev"))
struct NeonKernelTests {
    static let formats: [(GGMLType, lem_format, [Int])] = [
        (.q4_0, LEM_FMT_Q4_0, [0]), (.q4_1, LEM_FMT_Q4_1, [0, 2]), (.q5_0, LEM_FMT_Q5_0, [0]),
        (.q5_1, LEM_FMT_Q5_1, [0, 2]), (.q8_0, LEM_FMT_Q8_0, [0]), (.q4_K, LEM_FMT_Q4_K, [0, 2]),
        (.q5_K, LEM_FMT_Q5_K, [0, 2]), (.q6_K, LEM_FMT_Q6_K, [208])
    ]

    @Test(arguments: NeonKernelTests.formats.indices)
    func rowsEqualTheScalarOracle(index: Int) throws {
        let (type, format, scaleOffsets) = Self.formats[index]
        let cols = 512
        let rows = 19
        for extreme in [false, true] {
            var rng = TestRNG(state: UInt64(17 + index))
            // Random bytes, or every weight byte 0xFF / 0x80 (largest nibbles, Q8_0's −128).
            let bytes = randomGGMLBytes(type, rows: rows, cols: cols, scaleOffsets: scaleOffsets, rng: &rng) {
                extreme ? ($0.next() % 2 == 0 ? 0xFF : 0x80) : $0.byte()
            }
            // Activations that quantize to ±127 in some blocks (the largest products).
            let x: [Float] = (0..<cols).map { i in
                extreme ? (i % 3 == 0 ? -1 : 1) : rng.float(-1, 1) * (i % 97 == 0 ? 20 : 1)
            }
            var q = [Int8](repeating: 0, count: cols)
            var d = [Float](repeating: 0, count: cols / 32)
            var s = d
            let label = "\(type.name) extreme \(extreme)"
            try bytes.withUnsafeBufferPointer { w in
                try x.withUnsafeBufferPointer { xb in
                    try q.withUnsafeMutableBufferPointer { qb in
                        try d.withUnsafeMutableBufferPointer { db in
                            try s.withUnsafeMutableBufferPointer { sb in
                                var m = lem_matrix()
                                m.format = Int32(format.rawValue)
                                m.rows = Int32(rows)
                                m.cols = Int32(cols)
                                m.base = w.baseAddress
                                m.row_bytes = type.rowBytes(cols)
                                var a = lem_act(
                                    cols: Int32(cols), x: xb.baseAddress, q: qb.baseAddress, d: db.baseAddress,
                                    s: sb.baseAddress, q8: 0, q_mlx: nil)
                                let scalar = lem_options(simd: 0, q8: 1, dot8: 0, vnni: 0)
                                lem_prepare_act(&a, scalar)
                                try #require(a.q8 == 1)
                                var oracle = [Float](repeating: 0, count: rows)
                                lem_matvec_rows(&m, &a, &oracle, 0, Int32(rows), scalar)
                                for sdot in [Int32(0), 1] {
                                    let neon = (0..<rows).map { lem_neon_emulated_row(&m, Int32($0), &a, sdot) }
                                    #expect(
                                        neon.map(\.bitPattern) == oracle.map(\.bitPattern),
                                        "\(label) sdot \(sdot): \(zip(neon, oracle).first { $0 != $1 }.map { "\($0)" } ?? "")"
                                    )
                                }
                                #expect(oracle.allSatisfy(\.isFinite) && oracle.contains { $0 != 0 }, "\(label)")
                            }
                        }
                    }
                }
            }
        }
    }
}
