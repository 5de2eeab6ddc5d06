import COpenBLAS
import Foundation
import LEMEngine
import LEMFormats

// A frozen base weight kept in its stored encoding (GGUF Q4_K/Q6_K/Q8_0, MLX 4/8-bit, bf16, f32):
// both products the LoRA trainer needs from it are taken tile by tile, decoding at most
// `tileRows` weight rows into an f32 scratch and handing them to `cblas_sgemm`. The whole matrix
// is never expanded — this is what makes QLoRA cheap in memory. The weight rows are shared out
// between the trainer's threads, each decoding and multiplying its own (`TrainerThreads`).
//
// Legend: N activation rows (B·T tokens), I inputs, O outputs, t rows of one tile.

/// A frozen linear layer `y = x Wᵀ + b` over a weight in any stored encoding.
public struct FrozenLinear: Sendable {
    /// The stored weight, `[O, I]`.
    public let weight: any WeightTensor
    /// The bias, decoded (small). // (O)
    public let bias: [Float]?
    /// The C decoder of `weight`'s encoding, when there is one (faster than `decodeRow`).
    let kernel: MatrixKernel?
    public var inputs: Int { weight.columns }
    public var outputs: Int { weight.rows }
    /// Weight rows decoded per tile: about 512 KB of f32, so a tile stays in L2.
    public var tileRows: Int
    /// The fewest weight rows worth a thread of their own in `forward` / `backwardInput`.
    public var minimumShareRows = 64
    /// The threads its products are shared out between.
    let threads: TrainerThreads

    /// Wraps a stored weight and its optional bias; products use the threads of `options`.
    public init(weight: any WeightTensor, bias: [Float]?, options: EngineOptions = EngineOptions()) {
        self.weight = weight
        self.bias = bias
        threads = TrainerThreads(options)
        kernel = MatrixKernel(weight)
        tileRows = max(16, min(1024, 131_072 / max(1, weight.columns)))
    }

    /// Decodes weight rows `start ..< start + count` into `tile`, split across two threads when
    /// the tile is big enough to pay for it.
    func decode(rows start: Int, count: Int, into tile: UnsafeMutablePointer<Float>) {  // tile: (count, I)
        let columns = inputs
        let w = weight
        let kernel = self.kernel
        @Sendable func decodeRows(_ rows: Range<Int>, _ tile: UnsafeMutablePointer<Float>) {
            if let kernel {
                for r in rows { kernel.decodeRow(start + r, into: tile + r * columns) }
            } else {
                for r in rows { w.decodeRow(start + r, into: tile + r * columns) }
            }
        }
        if count < 32 {
            decodeRows(0..<count, tile)
            return
        }
        let shared = UnsafeSendablePointer(tile)
        let half = (count + 1) / 2
        DispatchQueue.concurrentPerform(iterations: 2) { part in
            decodeRows(part * half..<min(count, (part + 1) * half), shared.pointer)
        }
    }

    /// Decodes weight rows `start ..< start + count` into `tile` on the calling thread.
    func decodeSerial(rows start: Int, count: Int, into tile: UnsafeMutablePointer<Float>) {  // tile: (count, I)
        if let kernel {
            for r in 0..<count { kernel.decodeRow(start + r, into: tile + r * inputs) }
        } else {
            for r in 0..<count { weight.decodeRow(start + r, into: tile + r * inputs) }
        }
    }

    /// Decodes the weight rows `range` a tile of at most `tileRows` at a time, on the calling
    /// thread, into a scratch tile, and hands each to `body` as (first row, row count, tile).
    func forEachTile(
        _ range: Range<Int>, scratch: ScratchPool,
        _ body: (_ start: Int, _ count: Int, _ tile: UnsafePointer<Float>) -> Void
    ) {
        let tile = scratch.take(min(tileRows, range.count) * inputs)  // (t, I)
        defer { scratch.give(tile) }
        var start = range.lowerBound
        while start < range.upperBound {
            let count = min(tileRows, range.upperBound - start)
            decodeSerial(rows: start, count: count, into: tile.pointer)
            body(start, count, tile.pointer)
            start += count
        }
    }

    /// `y = x Wᵀ + b`, overwriting `y`.
    ///
    /// The output rows are split between the trainer's threads (`TrainerThreads`); each decodes
    /// its own rows tile by tile and multiplies them with single-threaded BLAS, so no thread waits
    /// for another until the end.
    public func forward(
        _ x: UnsafePointer<Float>,  // (N, I)
        rows n: Int,
        into y: UnsafeMutablePointer<Float>,  // (N, O)
        scratch: ScratchPool = ScratchPool()
    ) {
        let i = inputs
        let o = outputs
        let shared = UnsafeSendablePointer(y)
        let input = UnsafeSendableInput(x)
        threads.split(o, minimumPart: minimumShareRows) { range in
            forEachTile(range, scratch: scratch) { start, count, tile in
                // y[:, start ..< start + t] = x (N, I) · tile (t, I)ᵀ
                sgemm(
                    transB: true, m: n, n: count, k: i, input.pointer, lda: i, tile, ldb: i, shared.pointer + start,
                    ldc: o)
            }
        }
        if let bias {
            for r in 0..<n {
                let row = y + r * o
                for c in 0..<o { row[c] += bias[c] }
            }
        }
    }

    /// Adds the input gradient `dx += dy W` (the bias and weight are frozen).
    ///
    /// The weight rows (the sum's `O` terms) are split between the trainer's threads: the first
    /// adds its share straight into `dx`, the others into their own partial sums, added in after.
    public func backwardInput(
        _ dy: UnsafePointer<Float>,  // (N, O)
        rows n: Int,
        into dx: UnsafeMutablePointer<Float>,  // (N, I), added into
        scratch: ScratchPool = ScratchPool()
    ) {
        let i = inputs
        let o = outputs
        let ranges = threads.ranges(o, minimumPart: minimumShareRows)
        let partials = (1..<max(1, ranges.count)).map { _ in scratch.take(n * i) }  // (N, I) each
        defer { partials.forEach { scratch.give($0) } }
        let target = UnsafeSendablePointer(dx)
        let gradient = UnsafeSendableInput(dy)
        threads.run(ranges.count) { part in
            let range = ranges[part]
            let out = part == 0 ? target.pointer : partials[part - 1].pointer
            forEachTile(range, scratch: scratch) { start, count, tile in
                // out += dy[:, start ..< start + t] (N, t) · tile (t, I); a partial starts from zero
                let beta: Float = part == 0 || start > range.lowerBound ? 1 : 0
                sgemm(m: n, n: i, k: count, gradient.pointer + start, lda: o, tile, ldb: i, beta: beta, out, ldc: i)
            }
        }
        for partial in partials {
            let source = UnsafeSendableInput(UnsafePointer(partial.pointer))
            threads.split(n * i, minimumPart: 32_768) { range in
                for j in range { target.pointer[j] += source.pointer[j] }
            }
        }
    }
}

/// A raw pointer handed to worker threads that write disjoint parts of it.
struct UnsafeSendablePointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    init(_ pointer: UnsafeMutablePointer<Float>) { self.pointer = pointer }
    /// A buffer's start (the buffer is not empty), for threads that only read it or write
    /// disjoint parts.
    init(_ buffer: UnsafeBufferPointer<Float>) { pointer = UnsafeMutablePointer(mutating: buffer.baseAddress!) }
    init(_ buffer: UnsafeMutableBufferPointer<Float>) { pointer = buffer.baseAddress! }
}

/// A read-only pointer handed to worker threads.
struct UnsafeSendableInput: @unchecked Sendable {
    let pointer: UnsafePointer<Float>
    init(_ pointer: UnsafePointer<Float>) { self.pointer = pointer }
}

/// Runs `body` over `0 ..< count`, split in two halves on two threads when `count` is large
/// enough to pay for the hand-off.
func inHalves(_ count: Int, _ body: @Sendable (Range<Int>) -> Void) {
    guard count >= 32_768 else { return body(0..<count) }
    let half = (count + 1) / 2
    DispatchQueue.concurrentPerform(iterations: 2) { part in body(part * half..<min(count, (part + 1) * half)) }
}

/// Read-only inputs and written outputs handed together to worker threads.
struct SendableStorage: @unchecked Sendable {
    let inputs: [UnsafePointer<Float>]
    let outputs: [UnsafeMutablePointer<Float>]
}

/// Runs `body` over `0 ..< count` in halves (`inHalves`), given the storage of `inputs` (each of
/// at least `count` floats) and of `outputs` new arrays of `count` zeros, which it returns.
func elementwiseInHalves(
    _ count: Int, inputs: [[Float]], outputs: Int, _ body: @Sendable (SendableStorage, Range<Int>) -> Void
) -> [[Float]] {
    guard count > 0 else { return [[Float]](repeating: [], count: outputs) }
    let out = (0..<outputs).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: count) }
    defer { for p in out { p.deallocate() } }
    for p in out { p.initialize(repeating: 0, count: count) }
    withStorage(of: inputs[...], after: []) { ins in
        let storage = SendableStorage(inputs: ins, outputs: out)
        inHalves(count) { body(storage, $0) }
    }
    return out.map { Array(UnsafeBufferPointer(start: $0, count: count)) }
}

/// Calls `body` with the base addresses of `after` followed by those of `arrays` (non-empty).
private func withStorage(
    of arrays: ArraySlice<[Float]>, after: [UnsafePointer<Float>], _ body: ([UnsafePointer<Float>]) -> Void
) {
    guard let first = arrays.first else { return body(after) }
    first.withUnsafeBufferPointer { withStorage(of: arrays.dropFirst(), after: after + [$0.baseAddress!], body) }
}

/// Row-major `C = alpha · op(A) · op(B) + beta · C` through OpenBLAS, with Swift-sized arguments.
@inline(__always)
func sgemm(
    transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
    _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int, beta: Float = 0,
    _ c: UnsafeMutablePointer<Float>, ldc: Int
) {
    guard m > 0, n > 0 else { return }
    cblas_sgemm(
        CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}
