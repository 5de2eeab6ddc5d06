import Foundation
import LEMEngine
import LEMFormats
import TestSupport
import Testing

/// Random GGML blocks in memory the test owns, as a `WeightTensor` the C kernels can read.
private final class BlockTensor: WeightTensor, QuantizedRows, @unchecked Sendable {
    let name: String
    let shape: [Int]
    let type: GGMLType
    private let bytes: UnsafeMutableRawPointer
    private let count: Int

    /// `rows × cols` random blocks of `type` with f16 scales in [0.0005, 0.02) at `scaleOffsets`.
    init(_ name: String, type: GGMLType, rows: Int, cols: Int, scaleOffsets: [Int], seed: UInt64) {
        self.name = name
        self.type = type
        shape = [rows, cols]
        count = rows * type.rowBytes(cols)
        bytes = .allocate(byteCount: count, alignment: 16)
        var rng = Xoshiro256(seed: seed)
        for i in 0..<count {
            bytes.storeBytes(of: UInt8(truncatingIfNeeded: rng.next()), toByteOffset: i, as: UInt8.self)
        }
        for b in 0..<rows * cols / type.blockSize {
            for off in scaleOffsets {
                let h = HalfFloat.floatToF16(0.0005 + 0.0195 * rng.nextUnitFloat())
                bytes.storeBytes(of: h.littleEndian, toByteOffset: b * type.typeSize + off, as: UInt16.self)
            }
        }
    }

    deinit { bytes.deallocate() }

    var encoding: String { type.name }
    var storedBytes: Int { count }
    var rawRows: RawRows? {
        RawRows(
            format: .ggml(type), rows: rows, columns: columns, base: bytes, rowBytes: type.rowBytes(columns),
            owner: self)
    }

    func decodeRow(_ row: Int, into out: UnsafeMutablePointer<Float>) {
        type.dequantizeRow(bytes + row * type.rowBytes(columns), count: columns, into: out)
    }
}

@Suite("Fused matvecs and the chunked pool")
struct FusedLinearsTests {
    /// q/k/v-like layers in different formats (as Gemma's GGUF mixes Q5_0/Q8_0/Q4_K), with biases,
    /// run with `options`.
    static func layers(cols: Int, options: EngineOptions = EngineOptions()) -> [Linear] {
        var rng = Xoshiro256(seed: 5)
        return [
            Linear(
                weight: BlockTensor("q", type: .q5_0, rows: 200, cols: cols, scaleOffsets: [0], seed: 1),
                bias: randomFloats(200, scale: 0.5, rng: &rng), options: options),
            Linear(
                weight: BlockTensor("k", type: .q4_K, rows: 72, cols: cols, scaleOffsets: [0, 2], seed: 2), bias: nil,
                options: options),
            Linear(
                weight: BlockTensor("v", type: .q8_0, rows: 72, cols: cols, scaleOffsets: [0], seed: 3),
                bias: randomFloats(72, scale: 0.5, rng: &rng), options: options)
        ]
    }

    /// The fused run equals the layers called one by one, bit for bit, in both activation modes.
    @Test(arguments: [false, true])
    func fusedEqualsUnfused(q8: Bool) throws {
        let cols = 1024
        let options = EngineOptions(q8Activations: q8)
        let layers = Self.layers(cols: cols, options: options)
        let fused = try #require(FusedLinears(layers))
        var rng = Xoshiro256(seed: 9)
        let x = randomFloats(cols, rng: &rng)
        // Unfused: the oracle, each layer's own matvec (activation quantized per layer).
        let expected = separateOutputs(layers, x: x)
        let actual = fusedOutputs(fused, x: x)
        for (i, layer) in layers.enumerated() {
            #expect(actual[i] == expected[i], "layer \(layer.weight.name) (q8 \(q8)) differs")
            #expect(actual[i].contains { $0 != 0 }, "layer \(i) left empty")
        }
    }

    /// Through `Linear` with the layers' options, and for a chunk of tokens (which falls back to
    /// the layers one by one).
    @Test(arguments: [1, 3])
    func fusedMatchesLinearCalls(tokens: Int) throws {
        let cols = 512
        let layers = Self.layers(cols: cols, options: EngineOptions(q8Activations: true))
        let fused = try #require(FusedLinears(layers))
        var rng = Xoshiro256(seed: 21)
        let x = randomFloats(tokens * cols, rng: &rng)
        var tile = [Float](repeating: 0, count: Kernels.matmulTileRows * cols)
        var a = [Float](repeating: 0, count: tokens * 200)
        var b = [Float](repeating: 0, count: tokens * 72)
        var c = b
        var ea = a
        var eb = b
        var ec = c
        x.withUnsafeBufferPointer { xp in
            layers[0](xp.baseAddress!, tokens: tokens, tile: &tile, out: &ea)
            layers[1](xp.baseAddress!, tokens: tokens, tile: &tile, out: &eb)
            layers[2](xp.baseAddress!, tokens: tokens, tile: &tile, out: &ec)
            a.withUnsafeMutableBufferPointer { ap in
                b.withUnsafeMutableBufferPointer { bp in
                    c.withUnsafeMutableBufferPointer { cp in
                        tile.withUnsafeMutableBufferPointer { tp in
                            fused(
                                xp.baseAddress!, tokens: tokens, tile: tp.baseAddress!, ap.baseAddress!,
                                bp.baseAddress!, cp.baseAddress!)
                        }
                    }
                }
            }
        }
        #expect(a == ea)
        #expect(b == eb)
        #expect(c == ec)
    }

    /// A decode batch (rows that are independent one-token steps) through the fused layers and
    /// through each `Linear` equals every row run alone, bit for bit, in each kernel mode.
    @Test(arguments: [(false, true), (true, true), (true, false)])
    func decodeBatchEqualsEachRowAlone(q8: Bool, simd: Bool) throws {
        let cols = 512
        let rows = 5
        let layers = Self.layers(cols: cols, options: EngineOptions(simd: simd, q8Activations: q8))
        let fused = try #require(FusedLinears(layers))
        var rng = Xoshiro256(seed: 33)
        let x = randomFloats(rows * cols, rng: &rng)
        let alone = (0..<rows).map { fusedOutputs(fused, x: Array(x[($0 * cols)..<(($0 + 1) * cols)])) }
        var tile = [Float](repeating: 0, count: Kernels.matmulTileRows * cols)
        let outs = layers.map { UnsafeMutablePointer<Float>.allocate(capacity: rows * $0.outFeatures) }
        defer { outs.forEach { $0.deallocate() } }
        let pointers: [UnsafeMutablePointer<Float>?] = outs
        x.withUnsafeBufferPointer { xp in
            tile.withUnsafeMutableBufferPointer { tp in
                pointers.withUnsafeBufferPointer {
                    fused(xp.baseAddress!, tokens: rows, tile: tp.baseAddress!, outs: $0.baseAddress!, decode: true)
                }
            }
        }
        for (i, layer) in layers.enumerated() {
            let width = layer.outFeatures
            var single = [Float](repeating: 0, count: rows * width)
            x.withUnsafeBufferPointer { xp in
                layer(xp.baseAddress!, tokens: rows, tile: &tile, out: &single, decode: true)
            }
            for r in 0..<rows {
                let batched = Array(UnsafeBufferPointer(start: outs[i] + r * width, count: width))
                #expect(batched == alone[r][i], "fused layer \(i) row \(r) (q8 \(q8), simd \(simd))")
                #expect(Array(single[(r * width)..<((r + 1) * width)]) == alone[r][i], "Linear \(i) row \(r)")
            }
        }
    }

    /// Layers of different input widths or options, or a layer without a C kernel, are not fused.
    @Test func refusesMismatchedLayers() {
        let a = Linear(weight: BlockTensor("a", type: .q8_0, rows: 8, cols: 64, scaleOffsets: [0], seed: 1), bias: nil)
        let b = Linear(weight: BlockTensor("b", type: .q8_0, rows: 8, cols: 128, scaleOffsets: [0], seed: 2), bias: nil)
        let q8 = Linear(weight: a.weight, bias: nil, options: EngineOptions(q8Activations: true))
        var rng = Xoshiro256(seed: 3)
        let plain = Linear(weight: ArrayTensor.random("c", [8, 64], scale: 1, rng: &rng), bias: nil)
        #expect(FusedLinears([a, b]) == nil)
        #expect(FusedLinears([a, q8]) == nil)
        #expect(FusedLinears([a, plain]) == nil)
        #expect(FusedLinears([a]) == nil)
        #expect(FusedLinears([a, a]) != nil)
    }

    /// Every chunk of every run is called exactly once, over many short runs (where a late
    /// worker skipping a finished run is the common case) and several chunk counts.
    @Test func poolRunsEveryChunkOnce() {
        let maxChunks = 97
        let hits = UnsafeMutablePointer<Int32>.allocate(capacity: maxChunks)
        defer { hits.deallocate() }
        var bad = 0
        for run in 0..<3000 {
            let chunks = [1, 2, 3, 7, 16, 97][run % 6]
            hits.update(repeating: 0, count: maxChunks)
            Kernels.forEachChunk(chunks) { c in hits[c] += 1 }
            for c in 0..<maxChunks where hits[c] != (c < chunks ? 1 : 0) { bad += 1 }
        }
        #expect(bad == 0, "\(bad) chunks were run the wrong number of times")
    }

    /// Pool runs started from several threads at once (all but one run inline) stay exact.
    @Test func poolConcurrentCallers() async {
        let results = await withTaskGroup(of: Int.self) { group in
            for t in 0..<4 {
                group.addTask {
                    let chunks = 40 + t
                    let hits = UnsafeMutablePointer<Int32>.allocate(capacity: chunks)
                    defer { hits.deallocate() }
                    var bad = 0
                    for _ in 0..<500 {
                        hits.update(repeating: 0, count: chunks)
                        Kernels.forEachChunk(chunks) { c in hits[c] += 1 }
                        for c in 0..<chunks where hits[c] != 1 { bad += 1 }
                    }
                    return bad
                }
            }
            var total = 0
            for await bad in group { total += bad }
            return total
        }
        #expect(results == 0)
    }
}
