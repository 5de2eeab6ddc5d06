import Foundation
import LEMFormats
import TestSupport
import Testing

@testable import LEMEngine

/// Random GGML blocks in test memory, optionally stored llama.cpp-permuted over `heads`.
private final class StoredBlocks: WeightTensor, QuantizedRows, @unchecked Sendable {
    let name: String
    let shape: [Int]
    let type: GGMLType
    let heads: Int?
    let bytes: [UInt8]

    init(_ type: GGMLType, rows: Int, cols: Int, heads: Int? = nil, seed: UInt64) {
        name = "w"
        shape = [rows, cols]
        self.type = type
        self.heads = heads
        var rng = Xoshiro256(seed: seed)
        var b = (0..<rows * type.rowBytes(cols)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        for block in 0..<rows * cols / 32 {
            for off in type == .q4_1 || type == .q5_1 ? [0, 2] : [0] {
                var h = HalfFloat.floatToF16(0.0005 + 0.0195 * rng.nextUnitFloat())
                if off == 2 && rng.next() % 2 == 0 { h |= 0x8000 }  // negative minimums too
                b[block * type.typeSize + off] = UInt8(h & 0xFF)
                b[block * type.typeSize + off + 1] = UInt8(h >> 8)
            }
        }
        bytes = b
    }

    var encoding: String { type.name }
    var storedBytes: Int { bytes.count }
    var rawRows: RawRows? {
        bytes.withUnsafeBytes {
            RawRows(
                format: .ggml(type), rows: rows, columns: columns, base: $0.baseAddress!,
                rowBytes: type.rowBytes(columns),
                permutedHeads: heads, owner: self)
        }
    }

    /// The logical row: the stored row the permutation puts there (see `lem_stored_row`).
    func decodeRow(_ row: Int, into out: UnsafeMutablePointer<Float>) {
        var stored = row
        if let heads {
            let hd = rows / heads
            let half = hd / 2
            let h = row / hd
            let w = row % hd
            stored = h * hd + 2 * (w % half) + w / half
        }
        bytes.withUnsafeBytes {
            type.dequantizeRow($0.baseAddress! + stored * type.rowBytes(columns), count: columns, into: out)
        }
    }
}

/// An MLX 4-bit matrix written to a safetensors file and read back.
private func mlxTensor(rows: Int, cols: Int, groupSize: Int, scales: SafetensorsDType, seed: UInt64) throws -> (
    MLXQuantizedTensor, URL
) {
    var rng = Xoshiro256(seed: seed)
    let packed = (0..<rows * cols / 2).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    let groups = rows * cols / groupSize
    let s = (0..<groups).map { _ in 0.001 + 0.02 * rng.nextUnitFloat() }
    let b = (0..<groups).map { _ in 0.2 * rng.nextUnitFloat() - 0.1 }
    return try temporaryMLXTensor(
        rows: rows, cols: cols, bits: 4, groupSize: groupSize, scaleType: scales, packed: packed, scales: s, biases: b)
}

/// Everything a kernel computes, for comparing two kernels over the same logical matrix.
private struct KernelOutputs: Equatable {
    var matvec: MatvecPaths, prefill: [Float], decoded: [[Float]]

    init(_ kernel: MatrixKernel, weight: any WeightTensor, x: [Float], tokens: Int, eightRowKernels: Bool = true) {
        let n = kernel.rows
        let cols = kernel.columns
        var prefill = [Float](repeating: 0, count: tokens * n)
        var tile = [Float](repeating: 0, count: Kernels.matmulTileRows * cols)
        let xs = (0..<tokens).flatMap { t in x.map { $0 * Float(t + 1) } }
        xs.withUnsafeBufferPointer { xp in
            Kernels.matmul(
                xp.baseAddress!, weight: weight, kernel: kernel, bias: nil, tokens: tokens, tile: &tile, out: &prefill)
        }
        var decoded: [[Float]] = []
        var row = [Float](repeating: 0, count: cols)
        for r in 0..<n {
            kernel.decodeRow(r, into: &row)
            decoded.append(row)
        }
        (matvec, self.prefill, self.decoded) = (
            MatvecPaths(kernel, x: x, eightRowKernels: eightRowKernels), prefill, decoded
        )
    }
}

@Suite("Row-interleaved decode copies (x8) equal the stored layout", .serialized)
struct InterleavedWeightTests {
    /// Matvecs (pooled, serial, exact, scalar), prefill and row decoding of the interleaved copy
    /// equal the stored layout's bit for bit: rows not a multiple of 8 (a tail read from the
    /// stored rows), one block per row, permuted q/k rows.
    @Test(
        arguments: [
            (GGMLType.q4_0, 67, 512, nil), (.q4_1, 67, 544, nil), (.q4_0, 16, 32, nil), (.q4_1, 64, 256, 4),
            (.q4_0, 96, 128, 3),
            (.q8_0, 67, 512, nil), (.q8_0, 24, 64, 2), (.q5_0, 67, 544, nil), (.q5_0, 32, 64, 2), (.q5_0, 8, 32, nil)
        ] as [(GGMLType, Int, Int, Int?)])
    func ggufEqualsStoredLayout(type: GGMLType, rows: Int, cols: Int, heads: Int?) throws {
        let w = StoredBlocks(type, rows: rows, cols: cols, heads: heads, seed: UInt64(rows * cols))
        let plain = try #require(MatrixKernel(w))
        let x8 = try #require(plain.interleaved(releaseOriginal: false))
        #expect(x8.matrix.x8_rows == Int32(rows / 8 * 8))
        var rng = Xoshiro256(seed: 3)
        let x = randomFloats(cols, rng: &rng)
        for eight in [true, false] {
            let a = KernelOutputs(plain, weight: w, x: x, tokens: 5, eightRowKernels: eight)
            let b = KernelOutputs(x8, weight: w, x: x, tokens: 5, eightRowKernels: eight)
            #expect(a == b, "\(type.name) \(rows)×\(cols) heads \(heads ?? 0), eight-row \(eight)")
        }
        // The stored rows themselves, decoded in Swift, are what the copy gives back.
        var row = [Float](repeating: 0, count: cols)
        var expected = row
        for r in 0..<rows {
            x8.decodeRow(r, into: &row)
            w.decodeRow(r, into: &expected)
            #expect(row == expected, "row \(r)")
        }
    }

    /// Under 8-bit activations a prefill of the formats with a several-activation kernel gives
    /// every token what its own decode step gives it, bit for bit, from the stored layout and from
    /// the copy, with and without the VNNI variants; 9 tokens (two groups of four and one left).
    @Test(arguments: [GGMLType.q4_0, .q4_1, .q5_0, .q8_0])
    func integerDotPrefillEqualsDecode(type: GGMLType) throws {
        let (rows, cols, tokens) = (67, 544, 9)
        let w = StoredBlocks(type, rows: rows, cols: cols, seed: 77)
        let plain = try #require(MatrixKernel(w))
        let x8 = try #require(plain.interleaved(releaseOriginal: false))
        var rng = Xoshiro256(seed: 12)
        let xs = randomFloats(tokens * cols, rng: &rng)
        for (kernel, layout) in [(plain, "stored"), (x8, "x8")] {
            for vnni in [true, false] {
                let options = EngineOptions(vnni: vnni, q8Activations: true)
                #expect(options.prefill == .integerDots)
                var prefill = [Float](repeating: 0, count: tokens * rows)
                var tile = [Float](repeating: 0, count: Kernels.matmulTileRows * cols)
                xs.withUnsafeBufferPointer { xp in
                    Kernels.matmul(
                        xp.baseAddress!, weight: w, kernel: kernel, bias: nil, tokens: tokens, tile: &tile,
                        out: &prefill, options: options)
                }
                expectEqualsOwnMatvecs(
                    prefill, xs: xs, tokens: tokens, kernel: kernel, options: options,
                    "\(type.name) \(layout) vnni \(vnni)")
            }
        }
    }

    /// MLX 4-bit with f16, bf16 and f32 scales and groups of 32, 64 and 128.
    @Test(arguments: [(64, SafetensorsDType.f16), (32, .bf16), (128, .f32), (64, .bf16)])
    func mlxEqualsStoredLayout(groupSize: Int, scales: SafetensorsDType) throws {
        let (tensor, url) = try mlxTensor(
            rows: 44, cols: 256, groupSize: groupSize, scales: scales, seed: UInt64(groupSize))
        defer { try? FileManager.default.removeItem(at: url) }
        let plain = try #require(MatrixKernel(tensor))
        let x8 = try #require(plain.interleaved(releaseOriginal: false))
        var rng = Xoshiro256(seed: 8)
        let x = randomFloats(256, rng: &rng)
        #expect(
            KernelOutputs(plain, weight: tensor, x: x, tokens: 3) == KernelOutputs(x8, weight: tensor, x: x, tokens: 3))
    }

    /// Formats without a layout stay as loaded; a wrapped weight reports the original's name,
    /// shape, encoding and stored rows. A loader interleaves only when its options ask for it.
    @Test func wrappingRules() throws {
        let q5 = StoredBlocks(.q5_1, rows: 16, cols: 64, seed: 1)
        #expect(!(InterleavedWeight.wrapping(q5) is InterleavedWeight))
        let q4 = StoredBlocks(.q4_0, rows: 16, cols: 64, seed: 2)
        let tensors: [String: any WeightTensor] = ["w": q4]
        let off = WeightLoader(tensors: tensors, source: "test", options: EngineOptions(interleaveWeights: false))
        let stored = try off.tensor("w", shape: [16, 64])
        #expect(!off.interleaves && !(stored is InterleavedWeight))
        let scalar = WeightLoader(tensors: tensors, source: "test", options: EngineOptions(simd: false))
        #expect(!scalar.interleaves, "the scalar kernels do not read the copy")
        let on = WeightLoader(tensors: tensors, source: "test")
        let copied = try on.tensor("w", shape: [16, 64])
        #expect(on.interleaves == Kernels.cpuHasSIMD)
        #expect((copied is InterleavedWeight) == Kernels.cpuHasSIMD)
        let few = StoredBlocks(.q4_0, rows: 7, cols: 64, seed: 3)
        #expect(!(InterleavedWeight.wrapping(few) is InterleavedWeight))
        let wrapped = try #require(InterleavedWeight.wrapping(q4) as? InterleavedWeight)
        #expect(wrapped.shape == q4.shape && wrapped.encoding == "q4_0" && wrapped.storedBytes == q4.storedBytes)
        #expect(wrapped.rawRows?.base == q4.rawRows?.base)
        #expect(MatrixKernel(wrapped)?.matrix.x8 != nil)
        let again = try #require(InterleavedWeight.wrapping(wrapped) as? InterleavedWeight)
        #expect(again.kernel.matrix.x8 == wrapped.kernel.matrix.x8, "an interleaved weight is not packed twice")
    }

    /// q/k/v-like layers mixing an interleaved Q4_0, a stored Q5_1 and an interleaved MLX 4-bit
    /// matrix in one fused pool run (both broadcast activations built once) equal the stored
    /// layouts' layers one by one.
    @Test func fusedMixedLayouts() throws {
        let cols = 256
        let (mlx, url) = try mlxTensor(rows: 40, cols: cols, groupSize: 64, scales: .bf16, seed: 4)
        defer { try? FileManager.default.removeItem(at: url) }
        let weights: [any WeightTensor] = [
            StoredBlocks(.q4_0, rows: 72, cols: cols, seed: 5), StoredBlocks(.q5_1, rows: 24, cols: cols, seed: 6), mlx
        ]
        let q8 = EngineOptions(q8Activations: true)
        let plain = weights.map { Linear(weight: $0, bias: nil, options: q8) }
        let inter = weights.map { Linear(weight: InterleavedWeight.wrapping($0), bias: nil, options: q8) }
        #expect(inter.map { $0.kernel?.matrix.x8 != nil } == [true, false, true])
        let fused = try #require(FusedLinears(inter))
        var rng = Xoshiro256(seed: 10)
        let x = randomFloats(cols, rng: &rng)
        let expected = separateOutputs(plain, x: x)
        let actual = fusedOutputs(fused, x: x)
        for i in plain.indices { #expect(actual[i] == expected[i], "layer \(i)") }
    }

    /// SmolLM2 (Q4_1 layers, permuted q/k, Q8_0 embedding and head) built with and without interleaving gives
    /// the same logits bit for bit through prefill and decode, with exact and with 8-bit
    /// activations. The interleaved build releases the file pages it copied; the other build
    /// reads them back from the file.
    @Test(
        .enabled(if: TestPaths.smolLM2 != nil, "no default model installed: run Scripts/setup.sh"),
        arguments: [false, true])
    func realModelLogitsUnchanged(q8: Bool) throws {
        let files = try ModelFiles.open(try #require(TestPaths.smolLM2))
        let inter = try ModelFactory.makeModel(
            files, options: EngineOptions(q8Activations: q8, interleaveWeights: true))
        let plain = try ModelFactory.makeModel(
            files, options: EngineOptions(q8Activations: q8, interleaveWeights: false))
        let (a, b) = (plain.makeCache(), inter.makeCache())
        var la = try plain.forward(tokens: [1, 504, 3032, 282, 253, 1345], cache: a, logits: .all)
        var lb = try inter.forward(tokens: [1, 504, 3032, 282, 253, 1345], cache: b, logits: .all)
        #expect(la == lb, "prefill logits differ")
        for step in 0..<3 {
            let next = Sampler.argmax(la.suffix(files.config.vocabSize))
            la = try plain.forward(tokens: [next], cache: a, logits: .last)
            lb = try inter.forward(tokens: [next], cache: b, logits: .last)
            #expect(la == lb, "decode step \(step) logits differ")
        }
    }
}
