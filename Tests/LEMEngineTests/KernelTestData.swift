import Foundation
import LEMFormats
import Testing

@testable import LEMEngine

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

/// An MLX affine-quantized `[rows, cols]` matrix (`bits`-bit values packed in u32 words, a scale
/// and a bias per group of `groupSize`, stored as `scaleType`) written to a temporary safetensors
/// file and read back, as a model file would be; the caller removes `url`.
func temporaryMLXTensor(
    rows: Int, cols: Int, bits: Int, groupSize: Int, scaleType: SafetensorsDType,
    packed: [UInt8],  // (rows · cols · bits / 8)
    scales: [Float], biases: [Float]  // (rows, cols / groupSize) each
) throws -> (tensor: MLXQuantizedTensor, url: URL) {
    var w = SafetensorsWriter()
    try w.add("l.weight", dtype: .u32, shape: [rows, cols * bits / 32], bytes: packed)
    try w.add("l.scales", shape: [rows, cols / groupSize], floats: scales, as: scaleType)
    try w.add("l.biases", shape: [rows, cols / groupSize], floats: biases, as: scaleType)
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("lem-mlx-\(UUID().uuidString).safetensors")
    try w.write(to: url)
    let file = try SafetensorsFile(url: url)
    let tensor = try MLXQuantizedTensor(
        name: "l.weight", packed: file.tensor("l.weight"), scales: file.tensor("l.scales"),
        biases: file.tensor("l.biases"), bits: bits, groupSize: groupSize)
    return (tensor, url)
}

/// One token's `W x` through every matvec path of `kernel`: pooled and serial with 8-bit
/// activations, exact (f32 activations), and serial with SIMD off (the scalar C bodies).
struct MatvecPaths: Equatable {
    /// `pooled` and `serial` take the best kernels the CPU has (AVX-512 VNNI here where present);
    /// `avx2` is the pooled matvec with the VNNI variants turned off.
    var pooled: [Float], serial: [Float], exact: [Float], scalar: [Float], avx2: [Float]  // (rows) each

    init(_ kernel: MatrixKernel, x: [Float], eightRowKernels: Bool = true) {  // x: (columns)
        var scratch = [Float](repeating: 0, count: Kernels.activationScratchFloats(columns: kernel.columns))
        var pooled = [Float](repeating: 0, count: kernel.rows)
        var serial = pooled
        var exact = pooled
        var scalar = pooled
        var avx2 = pooled
        let q8 = EngineOptions(q8Activations: true, eightRowKernels: eightRowKernels)
        let noVNNI = EngineOptions(vnni: false, q8Activations: true, eightRowKernels: eightRowKernels)
        let portable = EngineOptions(simd: false, q8Activations: true, eightRowKernels: eightRowKernels)
        x.withUnsafeBufferPointer { xp in
            // Exact mode first (f32 activations): only summation order differs from decode-then-dot.
            let exactOptions = EngineOptions(eightRowKernels: eightRowKernels)
            Kernels.matvec(xp.baseAddress!, kernel: kernel, scratch: &scratch, out: &exact, options: exactOptions)
            Kernels.matvec(xp.baseAddress!, kernel: kernel, scratch: &scratch, out: &pooled, options: q8)
            Kernels.matvec(xp.baseAddress!, kernel: kernel, scratch: &scratch, out: &serial, options: q8, serial: true)
            Kernels.matvec(
                xp.baseAddress!, kernel: kernel, scratch: &scratch, out: &scalar, options: portable, serial: true)
            Kernels.matvec(xp.baseAddress!, kernel: kernel, scratch: &scratch, out: &avx2, options: noVNNI)
        }
        (self.pooled, self.serial, self.exact, self.scalar, self.avx2) = (pooled, serial, exact, scalar, avx2)
    }
}

/// Expects each of the `tokens` rows of `rows` (tokens, kernel.rows), computed from `xs` (tokens,
/// kernel.columns) several at a time, to equal that token's own `Kernels.matvec` with `options`,
/// bit for bit.
func expectEqualsOwnMatvecs(
    _ rows: [Float], xs: [Float], tokens: Int, kernel: MatrixKernel, options: EngineOptions, _ label: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let (out, cols) = (kernel.rows, kernel.columns)
    var scratch = [Float](repeating: 0, count: Kernels.activationScratchFloats(columns: cols))
    var step = [Float](repeating: 0, count: out)
    for t in 0..<tokens {
        xs.withUnsafeBufferPointer { xp in
            Kernels.matvec(xp.baseAddress! + t * cols, kernel: kernel, scratch: &scratch, out: &step, options: options)
        }
        let got = Array(rows[(t * out)..<((t + 1) * out)])
        #expect(got == step, "\(label): token \(t)", sourceLocation: sourceLocation)
    }
}

/// One token through `fused` (a single pool run, with its layers' options): each layer's output.
func fusedOutputs(_ fused: FusedLinears, x: [Float]) -> [[Float]] {  // x: (in)
    var tile = [Float](repeating: 0, count: Kernels.matmulTileRows * x.count)
    let outs = fused.layers.map { UnsafeMutablePointer<Float>.allocate(capacity: $0.outFeatures) }
    defer { outs.forEach { $0.deallocate() } }
    let pointers: [UnsafeMutablePointer<Float>?] = outs
    x.withUnsafeBufferPointer { xp in
        tile.withUnsafeMutableBufferPointer { tp in
            pointers.withUnsafeBufferPointer {
                fused(xp.baseAddress!, tokens: 1, tile: tp.baseAddress!, outs: $0.baseAddress!)
            }
        }
    }
    return zip(outs, fused.layers).map { Array(UnsafeBufferPointer(start: $0, count: $1.outFeatures)) }
}

/// One token through each of `layers` on its own (`Kernels.matvec` with the layer's options, the
/// activation quantized per layer), plus its bias: what a fused run must equal.
func separateOutputs(_ layers: [Linear], x: [Float]) -> [[Float]] {  // x: (in)
    var scratch = [Float](repeating: 0, count: Kernels.activationScratchFloats(columns: x.count))
    return layers.map { layer in
        var out = [Float](repeating: 0, count: layer.outFeatures)
        if let kernel = layer.kernel {
            x.withUnsafeBufferPointer {
                Kernels.matvec($0.baseAddress!, kernel: kernel, scratch: &scratch, out: &out, options: layer.options)
            }
        }
        if let bias = layer.bias { for o in 0..<bias.count { out[o] += bias[o] } }
        return out
    }
}

/// `rows` × `cols` of GGML `type` with random bytes from `byte` (default: `rng.byte()`), then sane
/// f16 scales at `scaleOffsets` within each block and, for MXFP4, E8M0 exponents from 2^−10 to
/// 2^−3 (weights up to ±1.5).
func randomGGMLBytes(
    _ type: GGMLType, rows: Int, cols: Int, scaleOffsets: [Int], rng: inout TestRNG,
    byte: (inout TestRNG) -> UInt8 = { $0.byte() }
) -> [UInt8] {
    var bytes = (0..<rows * type.rowBytes(cols)).map { _ in byte(&rng) }
    for b in 0..<rows * cols / type.blockSize {
        for off in scaleOffsets {
            let h = HalfFloat.floatToF16(rng.float(0.0005, 0.02))
            bytes[b * type.typeSize + off] = UInt8(h & 0xFF)
            bytes[b * type.typeSize + off + 1] = UInt8(h >> 8)
        }
        if type == .mxfp4 { bytes[b * type.typeSize] = 118 + rng.byte() % 8 }
    }
    return bytes
}
