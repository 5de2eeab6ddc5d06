import Foundation
import LEMFormats
import TestSupport
import Testing

@testable import LEMEngine

/// Runs every prefill strategy on `kernel` for `tokens` rows of `x` and checks each output against
/// a double-precision decode-then-dot: `|fast − naive| ≤ 1e-5 · Σ|w·x| + 1e-6` (f32 summation
/// order is the only difference; the prefill path never rounds the activation).
private func checkPrefill(
    _ kernel: MatrixKernel, label: String, tokens: Int, seed: UInt64,
    decode: (Int, UnsafeMutablePointer<Float>) -> Void
) {
    let rows = kernel.rows
    let cols = kernel.columns
    var rng = TestRNG(state: seed)
    // Mixed magnitudes per block, as real activations have (outlier channels included).
    let x = (0..<tokens * cols).map { i in rng.float(-1, 1) * (i % 97 == 0 ? 20 : 1) }  // (T, in)
    var tile = [Float](repeating: 0, count: Kernels.matmulTileRows * cols)  // (matmulTileRows, in)
    var naive = [Double](repeating: 0, count: tokens * rows)
    var bound = naive  // (T, out)
    var row = [Float](repeating: 0, count: cols)
    for r in 0..<rows {
        decode(r, &row)
        for t in 0..<tokens {
            var s = 0.0
            var mag = 0.0
            for i in 0..<cols {
                let p = Double(row[i]) * Double(x[t * cols + i])
                s += p
                mag += abs(p)
            }
            naive[t * rows + r] = s
            bound[t * rows + r] = 1e-5 * mag + 1e-6
        }
    }
    let runs: [(String, Kernels.PrefillStrategy, Bool)] = [
        ("dots", .integerDots, true), ("gemm", .fusedGemm, true), ("gemm scalar", .fusedGemm, false),
        ("pool", .poolTiles, true),
        ("blas", .blasThreads, true)
    ]
    for (name, strategy, simd) in runs {
        var out = [Float](repeating: .nan, count: tokens * rows)  // (T, out)
        let options = EngineOptions(simd: simd, prefill: strategy)
        x.withUnsafeBufferPointer { xp in
            Kernels.prefillMatmul(
                xp.baseAddress!, kernel: kernel, tokens: tokens, tile: &tile, out: &out, options: options)
        }
        var worst = 0.0
        for i in 0..<tokens * rows {
            let err = abs(Double(out[i]) - naive[i])
            guard err <= bound[i] else {
                Issue.record(
                    "\(label) \(name) T=\(tokens) token \(i / rows) row \(i % rows): \(out[i]) vs \(naive[i]), bound \(bound[i])"
                )
                break
            }
            worst = max(worst, err / bound[i])
        }
        #expect(worst <= 1, "\(label) \(name): worst error / bound \(worst)")
    }
}

@Suite("Prefill matmul strategies vs decode-then-dot")
struct PrefillMatmulTests {
    /// Random blocks of `type` with sane f16 scales at `scaleOffsets` within each block.
    private static func ggml(_ type: GGMLType, rows: Int, cols: Int, scaleOffsets: [Int], seed: UInt64) -> (
        MatrixKernel?, TestBytes
    ) {
        var rng = TestRNG(state: seed)
        var bytes: [UInt8]
        switch type {
        case .f32:
            bytes = (0..<rows * cols).map { _ in rng.float(-0.1, 0.1) }.withUnsafeBytes { Array($0) }
        case .f16, .bf16:
            bytes = []
            for _ in 0..<rows * cols {
                let f = rng.float(-0.1, 0.1)
                let h = type == .f16 ? HalfFloat.floatToF16(f) : HalfFloat.floatToBF16(f)
                bytes += [UInt8(h & 0xFF), UInt8(h >> 8)]
            }
        default:
            bytes = randomGGMLBytes(type, rows: rows, cols: cols, scaleOffsets: scaleOffsets, rng: &rng)
        }
        let box = TestBytes(bytes)
        let kernel = box.bytes.withUnsafeBytes { p in
            MatrixKernel(
                RawRows(
                    format: .ggml(type), rows: rows, columns: cols, base: p.baseAddress!, rowBytes: type.rowBytes(cols),
                    owner: box))
        }
        return (kernel, box)
    }

    /// Every GGML format the C kernels read, with row counts that leave 3-row and 4-token edges.
    @Test(arguments: QuantizedMatvecTests.formats)
    func randomBlocks(type: GGMLType, scaleOffsets: [Int]) throws {
        let rows = 67
        let cols = 512
        let (k, box) = Self.ggml(type, rows: rows, cols: cols, scaleOffsets: scaleOffsets, seed: 42)
        let kernel = try #require(k, "no kernel for \(type.name)")
        let decode = { (r: Int, out: UnsafeMutablePointer<Float>) in
            box.bytes.withUnsafeBytes { p in
                type.dequantizeRow(p.baseAddress! + r * type.rowBytes(cols), count: cols, into: out)
            }
        }
        for tokens in [2, 7, 13] {
            checkPrefill(kernel, label: type.name, tokens: tokens, seed: UInt64(tokens), decode: decode)
        }
    }

    /// f32 rows with widths that are not multiples of 8 or 32: the kernel's K tail and tiny shapes.
    @Test(arguments: [(1, 5), (2, 8), (3, 13), (5, 40), (7, 67), (130, 9)])
    func oddShapes(rows: Int, cols: Int) throws {
        let (k, box) = Self.ggml(.f32, rows: rows, cols: cols, scaleOffsets: [], seed: UInt64(rows * 100 + cols))
        let kernel = try #require(k)
        let decode = { (r: Int, out: UnsafeMutablePointer<Float>) in
            box.bytes.withUnsafeBytes { p in
                GGMLType.f32.dequantizeRow(p.baseAddress! + r * cols * 4, count: cols, into: out)
            }
        }
        for tokens in [2, 4, 9] {
            checkPrefill(kernel, label: "f32 \(rows)x\(cols)", tokens: tokens, seed: 5, decode: decode)
        }
    }

    /// MLX affine 4/8-bit through a real safetensors file.
    @Test(arguments: [(4, 64, SafetensorsDType.f16), (8, 32, .bf16)])
    func mlxAffine(bits: Int, groupSize: Int, scaleType: SafetensorsDType) throws {
        try QuantizedMatvecTests.withMLXKernel(bits: bits, groupSize: groupSize, scaleType: scaleType) {
            tensor, kernel in
            checkPrefill(kernel, label: tensor.encoding, tokens: 6, seed: 3, decode: tensor.decodeRow)
        }
    }

    /// Real-model matrices (llama-permuted q/k rows, Q4_1, Q5_0, Q8_0, Q4_K, Q6_K), and the fast
    /// path through `Kernels.matmul` against `matmulNaive` on the tensor itself.
    @Test(
        .enabled(
            if: TestPaths.smolLM2 != nil || TestPaths.gemma3 != nil, "no default model installed: run Scripts/setup.sh")
    )
    func realModelRows() throws {
        let names: [(URL?, String)] = [
            (TestPaths.smolLM2, "model.layers.0.self_attn.q_proj.weight"),
            (TestPaths.smolLM2, "model.layers.3.self_attn.k_proj.weight"),
            (TestPaths.smolLM2, "model.layers.5.mlp.down_proj.weight"),
            (TestPaths.gemma3, "model.layers.0.self_attn.q_proj.weight"),
            (TestPaths.gemma3, "model.layers.0.self_attn.v_proj.weight"),
            (TestPaths.gemma3, "model.layers.1.mlp.down_proj.weight"),
            (TestPaths.gemma3, "model.layers.2.self_attn.o_proj.weight")
        ]
        for (url, name) in names {
            guard let url else { continue }
            let t = try ModelFiles.open(url).tensor(name)
            let kernel = try #require(MatrixKernel(t), "\(name) (\(t.encoding)) has no kernel")
            checkPrefill(
                kernel, label: "\(url.lastPathComponent) \(name) \(t.encoding)", tokens: 5, seed: 11,
                decode: t.decodeRow)

            // The public entry point with a bias, against the naive oracle.
            let tokens = 9
            var rng = TestRNG(state: 17)
            let x = (0..<tokens * t.columns).map { _ in rng.float(-1, 1) }  // (T, in)
            let bias = (0..<t.rows).map { _ in rng.float(-1, 1) }  // (out)
            var tile = [Float](repeating: 0, count: Kernels.matmulTileRows * t.columns)
            var fast = [Float](repeating: 0, count: tokens * t.rows)
            var naive = fast  // (T, out)
            var scratch = [Float](repeating: 0, count: t.columns)
            Kernels.matmul(x, weight: t, kernel: kernel, bias: bias, tokens: tokens, tile: &tile, out: &fast)
            Kernels.matmulNaive(x, weight: t, bias: bias, tokens: tokens, scratch: &scratch, out: &naive)
            let worst = zip(fast, naive).map { abs($0 - $1) / (1 + abs($1)) }.max() ?? 0
            #expect(worst < 1e-4, "\(name): matmul vs matmulNaive worst relative error \(worst)")
        }
    }
}
