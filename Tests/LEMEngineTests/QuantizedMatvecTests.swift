import Foundation
import LEMFormats
import TestSupport
import Testing

@testable import LEMEngine

/// The largest error Q8 activation quantization may add to `Σ w·x`: each element moves by at most
/// half its block's step `max|x| / 127`, so `|Σ w·x − Σ w·x̂| ≤ Σ |w| · max|x|_block / 254`; plus a
/// float-rounding allowance of 1e-5 · Σ|w·x| (summation order differs between the kernels).
private func q8Bound(_ w: UnsafePointer<Float>, _ x: [Float], quantized: Bool) -> Double {
    var bound = 0.0
    var mag = 0.0
    for b in 0..<x.count / 32 {
        let amax = Double(x[32 * b..<32 * b + 32].map { abs($0) }.max() ?? 0)
        for i in 32 * b..<32 * b + 32 {
            bound += abs(Double(w[i])) * amax / 254
            mag += abs(Double(w[i]) * Double(x[i]))
        }
    }
    return (quantized ? bound * 1.001 : 0) + 1e-5 * mag + 1e-6
}

/// Compares the fast kernels (AVX2 and scalar, serial and pooled) with decode-then-dot for `rows`,
/// once with the eight-row AVX2 kernels and once with the one-row ones.
private func checkKernel(
    _ kernel: MatrixKernel, label: String, x: [Float], decode: (Int, UnsafeMutablePointer<Float>) -> Void
) {
    for eight in [true, false] {
        checkKernelOnce(
            kernel, label: "\(label) \(eight ? "eight-row" : "one-row")", x: x, eightRowKernels: eight, decode: decode)
    }
}

private func checkKernelOnce(
    _ kernel: MatrixKernel, label: String, x: [Float], eightRowKernels: Bool,
    decode: (Int, UnsafeMutablePointer<Float>) -> Void
) {
    let rows = kernel.rows
    let cols = kernel.columns
    var row = [Float](repeating: 0, count: cols)
    // The exact mode (f32 activations) differs from decode-then-dot only in summation order.
    let paths = MatvecPaths(kernel, x: x, eightRowKernels: eightRowKernels)
    let (fast, serial, scalar, exact) = (paths.pooled, paths.serial, paths.scalar, paths.exact)
    var worst = 0.0
    for r in 0..<rows {
        decode(r, &row)
        var naive = 0.0
        for i in 0..<cols { naive += Double(row[i]) * Double(x[i]) }
        let bound = row.withUnsafeBufferPointer { q8Bound($0.baseAddress!, x, quantized: kernel.quantizesActivation) }
        let exactBound = row.withUnsafeBufferPointer { q8Bound($0.baseAddress!, x, quantized: false) }
        if abs(Double(exact[r]) - naive) > exactBound {
            Issue.record("\(label) exact row \(r): \(exact[r]) vs naive \(naive), bound \(exactBound)")
            return
        }
        for (name, v) in [("pooled", fast[r]), ("serial", serial[r]), ("scalar", scalar[r])] {
            let err = abs(Double(v) - naive)
            worst = max(worst, err / bound)
            if err > bound {
                Issue.record("\(label) \(name) row \(r): \(v) vs naive \(naive), |Δ| \(err) > bound \(bound)")
                return
            }
        }
        // AVX2 and scalar compute the same block arithmetic: only summation order differs.
        let agree = abs(Double(serial[r]) - Double(scalar[r]))
        if agree > 1e-5 * (abs(naive) + bound) + 1e-5 {
            Issue.record("\(label) row \(r): AVX2 \(serial[r]) vs scalar \(scalar[r])")
            return
        }
        if fast[r] != serial[r] {
            Issue.record("\(label) row \(r): pooled \(fast[r]) differs from serial \(serial[r])")
            return
        }
        // The VNNI variants sum the same exact integers as the AVX2 ones.
        if paths.avx2[r] != fast[r] {
            Issue.record("\(label) row \(r): AVX2 \(paths.avx2[r]) differs from VNNI \(fast[r])")
            return
        }
    }
    #expect(worst <= 1, "\(label): worst error / bound \(worst)")
}

@Suite("Quantized matvec kernels vs decode-then-dot", .serialized)
struct QuantizedMatvecTests {
    /// Random blocks of `type` with sane f16 scales at `scaleOffsets` within each block.
    static func randomGGML(_ type: GGMLType, rows: Int, cols: Int, scaleOffsets: [Int], seed: UInt64) -> ByteBoxRows {
        var rng = TestRNG(state: seed)
        let bytes = randomGGMLBytes(type, rows: rows, cols: cols, scaleOffsets: scaleOffsets, rng: &rng)
        return ByteBoxRows(box: TestBytes(bytes), type: type, rows: rows, cols: cols)
    }

    /// A random MLX affine matrix (packed bytes, scales, biases drawn in that order from one
    /// generator seeded by `bits` and `groupSize`) through a temporary safetensors file; the
    /// caller removes `url`.
    static func mlxTensor(
        rows: Int, cols: Int, bits: Int, groupSize: Int, scaleType: SafetensorsDType
    ) throws -> (tensor: MLXQuantizedTensor, url: URL) {
        var rng = TestRNG(state: UInt64(bits * 1000 + groupSize))
        let packed = (0..<rows * cols * bits / 8).map { _ in rng.byte() }
        let groups = rows * cols / groupSize
        let scales = (0..<groups).map { _ in rng.float(0.001, 0.02) }
        let biases = (0..<groups).map { _ in rng.float(-0.1, 0.1) }
        return try temporaryMLXTensor(
            rows: rows, cols: cols, bits: bits, groupSize: groupSize, scaleType: scaleType, packed: packed,
            scales: scales, biases: biases)
    }

    /// Runs `body` on a random 40 × 256 MLX affine matrix read from a temporary safetensors file,
    /// and on its kernel; the file is removed afterwards.
    static func withMLXKernel(
        bits: Int, groupSize: Int, scaleType: SafetensorsDType,
        _ body: (MLXQuantizedTensor, MatrixKernel) throws -> Void
    ) throws {
        let (tensor, url) = try mlxTensor(rows: 40, cols: 256, bits: bits, groupSize: groupSize, scaleType: scaleType)
        defer { try? FileManager.default.removeItem(at: url) }
        try body(tensor, try #require(MatrixKernel(tensor)))
    }

    /// A GGML matrix held in test memory.
    struct ByteBoxRows {
        fileprivate let box: TestBytes
        let type: GGMLType, rows: Int, cols: Int
        var kernel: MatrixKernel? {
            box.bytes.withUnsafeBytes { p in
                MatrixKernel(
                    RawRows(
                        format: .ggml(type), rows: rows, columns: cols, base: p.baseAddress!,
                        rowBytes: type.rowBytes(cols), owner: box))
            }
        }
        func decode(_ r: Int, _ out: UnsafeMutablePointer<Float>) {
            box.bytes.withUnsafeBytes { p in
                type.dequantizeRow(p.baseAddress! + r * type.rowBytes(cols), count: cols, into: out)
            }
        }
    }

    /// Every GGML format the C kernels read, with the byte offsets of its f16 scales in a block.
    static let formats: [(GGMLType, [Int])] = [
        (.q4_0, [0]), (.q4_1, [0, 2]), (.q5_0, [0]), (.q5_1, [0, 2]), (.q8_0, [0]), (.q4_K, [0, 2]), (.q5_K, [0, 2]),
        (.q6_K, [208]), (.mxfp4, []), (.f32, []), (.f16, []), (.bf16, [])
    ]

    static func activation(_ n: Int, seed: UInt64) -> [Float] {
        var rng = TestRNG(state: seed)
        // Mixed magnitudes per block, as real activations have (outlier channels included).
        return (0..<n).map { i in rng.float(-1, 1) * (i % 97 == 0 ? 20 : 1) }
    }

    @Test(arguments: QuantizedMatvecTests.formats)
    func randomBlocks(type: GGMLType, scaleOffsets: [Int]) throws {
        let cols = 512
        let rows = 67
        let m: ByteBoxRows
        switch type {
        case .f32:
            var rng = TestRNG(state: 7)
            let floats = (0..<rows * cols).map { _ in rng.float(-0.1, 0.1) }
            m = ByteBoxRows(box: TestBytes(floats.withUnsafeBytes { Array($0) }), type: .f32, rows: rows, cols: cols)
        case .f16, .bf16:
            var rng = TestRNG(state: 9)
            var bytes: [UInt8] = []
            for _ in 0..<rows * cols {
                let f = rng.float(-0.1, 0.1)
                let h = type == .f16 ? HalfFloat.floatToF16(f) : HalfFloat.floatToBF16(f)
                bytes += [UInt8(h & 0xFF), UInt8(h >> 8)]
            }
            m = ByteBoxRows(box: TestBytes(bytes), type: type, rows: rows, cols: cols)
        default:
            m = Self.randomGGML(type, rows: rows, cols: cols, scaleOffsets: scaleOffsets, seed: 42)
        }
        let kernel = try #require(m.kernel, "no kernel for \(type.name)")
        #expect(kernel.quantizesActivation == ![.f32, .f16, .bf16].contains(type))
        checkKernel(kernel, label: type.name, x: Self.activation(cols, seed: 3), decode: m.decode)
    }

    /// An odd number of 32-blocks per row (17 and 1): the AVX2 kernels run even and odd blocks on
    /// two accumulator chains, so the lone last block takes their tail path.
    @Test(arguments: [
        (GGMLType.q4_0, [0]), (.q4_1, [0, 2]), (.q5_0, [0]), (.q5_1, [0, 2]), (.q8_0, [0]), (.mxfp4, [])
    ])
    func oddBlockCount(type: GGMLType, scaleOffsets: [Int]) throws {
        for cols in [544, 32] {
            let m = Self.randomGGML(type, rows: 23, cols: cols, scaleOffsets: scaleOffsets, seed: 17)
            let kernel = try #require(m.kernel, "no kernel for \(type.name)")
            checkKernel(
                kernel, label: "\(type.name) cols \(cols)", x: Self.activation(cols, seed: 19), decode: m.decode)
        }
    }

    /// MLX 4/8-bit with f16, bf16 and f32 scales, through a real safetensors file and the
    /// `MLXQuantizedTensor` conformance.
    @Test(arguments: [(4, 64, SafetensorsDType.f16), (4, 32, .bf16), (8, 64, .f32), (8, 128, .f16), (4, 128, .f32)])
    func mlxAffine(bits: Int, groupSize: Int, scaleType: SafetensorsDType) throws {
        try Self.withMLXKernel(bits: bits, groupSize: groupSize, scaleType: scaleType) { tensor, kernel in
            checkKernel(
                kernel, label: tensor.encoding, x: Self.activation(kernel.columns, seed: 5), decode: tensor.decodeRow)
        }
    }

    /// Rows of the real models: every format they use, llama's permuted q/k rows, the output head.
    @Test(
        .enabled(
            if: TestPaths.smolLM2 != nil || TestPaths.gemma3 != nil, "no default model installed: run Scripts/setup.sh")
    )
    func realModelRows() throws {
        let names: [(URL?, String)] = [
            (TestPaths.smolLM2, "model.layers.0.self_attn.q_proj.weight"),  // Q4_1, permuted
            (TestPaths.smolLM2, "model.layers.3.self_attn.k_proj.weight"),  // Q4_1, permuted
            (TestPaths.smolLM2, "model.layers.5.mlp.down_proj.weight"),  // Q4_1
            (TestPaths.gemma3, "model.layers.0.self_attn.q_proj.weight"),  // Q5_0
            (TestPaths.gemma3, "model.layers.0.self_attn.v_proj.weight"),
            (TestPaths.gemma3, "model.layers.1.self_attn.v_proj.weight"),
            (TestPaths.gemma3, "model.layers.0.mlp.down_proj.weight"),
            (TestPaths.gemma3, "model.layers.1.mlp.down_proj.weight"),
            (TestPaths.gemma3, "model.layers.2.self_attn.o_proj.weight")  // Q4_K
        ]
        var seen = Set<String>()
        for (url, name) in names {
            guard let url else { continue }
            let files = try ModelFiles.open(url)
            let t = try files.tensor(name)
            seen.insert(t.encoding)
            let kernel = try #require(MatrixKernel(t), "\(name) (\(t.encoding)) has no kernel")
            checkKernel(
                kernel, label: "\(url.lastPathComponent) \(name) \(t.encoding)",
                x: Self.activation(t.columns, seed: 11), decode: t.decodeRow)
        }
        // The output head (the tied embedding), checked on a slice of rows through the pool.
        for url in [TestPaths.smolLM2, TestPaths.gemma3].compactMap({ $0 }) {
            let t = try ModelFiles.open(url).tensor("model.embed_tokens.weight")
            let kernel = try #require(MatrixKernel(t))
            let x = Self.activation(t.columns, seed: 13)
            var scratch = [Float](repeating: 0, count: Kernels.activationScratchFloats(columns: t.columns))
            var out = [Float](repeating: 0, count: t.rows)
            x.withUnsafeBufferPointer {
                Kernels.matvec(
                    $0.baseAddress!, kernel: kernel, scratch: &scratch, out: &out,
                    options: EngineOptions(q8Activations: true))
            }
            var row = [Float](repeating: 0, count: t.columns)
            for r in stride(from: 0, to: t.rows, by: 997) {
                t.decodeRow(r, into: &row)
                let naive = zip(row, x).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                let bound = row.withUnsafeBufferPointer { q8Bound($0.baseAddress!, x, quantized: true) }
                #expect(abs(Double(out[r]) - naive) <= bound, "head row \(r): \(out[r]) vs \(naive)")
            }
        }
        if TestPaths.gemma3 != nil {
            #expect(seen.isSuperset(of: ["q5_0", "q8_0", "q4_K", "q6_K"]), "formats seen: \(seen)")
        }
    }

    /// Several K-quant activations at once (a row unpacked once for four) give each activation
    /// what its own matvec gives it, bit for bit, with and without VNNI; 9 activations.
    @Test(arguments: [(GGMLType.q4_K, [0, 2]), (.q5_K, [0, 2]), (.q6_K, [208])])
    func kQuantBatchEqualsSingle(type: GGMLType, scaleOffsets: [Int]) throws {
        let (rows, cols, tokens) = (37, 512, 9)
        let m = Self.randomGGML(type, rows: rows, cols: cols, scaleOffsets: scaleOffsets, seed: 21)
        let kernel = try #require(m.kernel)
        let xs = (0..<tokens).flatMap { Self.activation(cols, seed: UInt64(30 + $0)) }
        for vnni in [true, false] {
            let options = EngineOptions(vnni: vnni, q8Activations: true)
            var batch = [Float](repeating: 0, count: tokens * rows)
            var batchScratch = [Float](repeating: 0, count: tokens * Kernels.activationScratchFloats(columns: cols))
            xs.withUnsafeBufferPointer { xp in
                Kernels.matvecBatch(
                    xp.baseAddress!, count: tokens, kernel: kernel, scratch: &batchScratch, out: &batch,
                    options: options)
            }
            expectEqualsOwnMatvecs(
                batch, xs: xs, tokens: tokens, kernel: kernel, options: options, "\(type.name) vnni \(vnni)")
        }
    }

    /// A thread count set through the API is used, and 1 thread gives the same rows.
    @Test func threadCount() throws {
        let m = Self.randomGGML(.q8_0, rows: 300, cols: 1024, scaleOffsets: [0], seed: 1)
        let kernel = try #require(m.kernel)
        let x = Self.activation(1024, seed: 2)
        var scratch = [Float](repeating: 0, count: Kernels.activationScratchFloats(columns: 1024))
        var a = [Float](repeating: 0, count: 300)
        var b = a
        let before = Kernels.threadCount
        defer { Kernels.setThreadCount(before) }
        Kernels.setThreadCount(1)
        #expect(Kernels.threadCount == 1)
        x.withUnsafeBufferPointer { Kernels.matvec($0.baseAddress!, kernel: kernel, scratch: &scratch, out: &a) }
        Kernels.setThreadCount(3)
        #expect(Kernels.threadCount == 3)
        x.withUnsafeBufferPointer { Kernels.matvec($0.baseAddress!, kernel: kernel, scratch: &scratch, out: &b) }
        #expect(a == b)
    }
}
