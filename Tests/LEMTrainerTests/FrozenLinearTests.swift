import Foundation
import LEMEngine
import LEMFormats
import TestSupport
import Testing

@testable import LEMTrainer

/// `FrozenLinear`'s tiled products (C-kernel tile decode, two-thread split, sgemm) against the
/// plain loops over the tensor's own `decodeRow`, for each stored encoding.
@Suite struct FrozenLinearTests {
    /// A model's `mlp.up_proj` of block 0: enough rows for the two-thread decode.
    static func weight(_ fixture: String) throws -> any WeightTensor {
        try #require(TinyModels.files(fixture).tensors["model.layers.0.mlp.up_proj.weight"])
    }

    @Test(arguments: [
        "llama3_tiny", "gemma3_tiny-mlx4", "gemma3_tiny-mlx8", "gemma3_tiny_lcpp/model-q8_0.gguf",
        "llama3_tiny_k256/model-q4_k.gguf"
    ])
    func tilesMatchPlainLoops(_ fixture: String) throws {
        let weight = try Self.weight(fixture)
        let o = weight.rows
        let i = weight.columns
        let n = 5
        let dense = weight.decodeAll()  // (O, I), the tensor's own decoder
        var tile = [Float](repeating: 0, count: o * i)  // (O, I)
        let linear = FrozenLinear(weight: weight, bias: (0..<o).map { Float($0) / 100 })
        #expect(linear.kernel != nil, "\(fixture): no C decoder")
        #expect(o >= 32, "\(fixture): too few rows to split the decode")
        tile.withUnsafeMutableBufferPointer { linear.decode(rows: 0, count: o, into: $0.baseAddress!) }
        let scale = Double(dense.map(abs).max() ?? 1)
        #expect(checkClose(tile, dense, tol: 1e-6 * scale, label: "\(fixture) decode") == nil)

        var random = SeededGenerator(seed: 5)
        let x = (0..<n * i).map { _ in Float.random(in: -1...1, using: &random) }  // (N, I)
        let dy = (0..<n * o).map { _ in Float.random(in: -1...1, using: &random) }  // (N, O)
        var y = [Float](repeating: 0, count: n * o)
        var dx = [Float](repeating: 1, count: n * i)
        linear.forward(x, rows: n, into: &y)
        linear.backwardInput(dy, rows: n, into: &dx)
        var expectedY = [Double](repeating: 0, count: n * o)
        var expectedDx = [Double](repeating: 1, count: n * i)
        for r in 0..<n {
            for row in 0..<o {
                var sum = Double(linear.bias![row])
                for col in 0..<i {
                    sum += Double(x[r * i + col]) * Double(dense[row * i + col])
                    expectedDx[r * i + col] += Double(dy[r * o + row]) * Double(dense[row * i + col])
                }
                expectedY[r * o + row] = sum
            }
        }
        #expect(checkClose(y, expectedY, tol: 1e-5 * Double(i) * scale, label: "\(fixture) forward") == nil)
        #expect(checkClose(dx, expectedDx, tol: 1e-5 * Double(o) * scale, label: "\(fixture) backward") == nil)

        // Shared out between threads in several small tiles each (first tile of a partial sum,
        // later tiles, the partials added in): the same products.
        var split = linear
        split.tileRows = 3
        split.minimumShareRows = 4
        #expect(split.threads.ranges(o, minimumPart: 4).count == min(split.threads.count, o / 4))
        var ySplit = [Float](repeating: 0, count: n * o)
        var dxSplit = [Float](repeating: 1, count: n * i)
        split.forward(x, rows: n, into: &ySplit)
        split.backwardInput(dy, rows: n, into: &dxSplit)
        #expect(checkClose(ySplit, expectedY, tol: 1e-5 * Double(i) * scale, label: "\(fixture) split forward") == nil)
        #expect(
            checkClose(dxSplit, expectedDx, tol: 1e-5 * Double(o) * scale, label: "\(fixture) split backward") == nil)
    }

    /// The thread shares cover every index once, in order, and respect the minimum size; the
    /// count is the options' (else the kernel pool's).
    @Test func sharesCoverEveryRowOnce() throws {
        #expect(TrainerThreads(EngineOptions(threads: 3)).count == 3)
        #expect(TrainerThreads(EngineOptions()).count == max(1, Kernels.threadCount))
        let linear = FrozenLinear(weight: try Self.weight("llama3_tiny"), bias: nil, options: EngineOptions(threads: 5))
        #expect(linear.threads.count == 5)
        for threads in [TrainerThreads(EngineOptions()), TrainerThreads(EngineOptions(threads: 3))] {
            for total in [0, 1, 5, 63, 64, 129, 1000] {
                for minimum in [1, 4, 64] {
                    let ranges = threads.ranges(total, minimumPart: minimum)
                    #expect(ranges.flatMap { Array($0) } == Array(0..<total), "\(total) / \(minimum)")
                    #expect(ranges.count <= threads.count)
                    if ranges.count > 1 { #expect(ranges.allSatisfy { $0.count >= minimum / 2 }) }
                }
            }
        }
    }

    /// Scratch buffers are reused: the smallest that fits is handed out again.
    @Test func scratchPoolReusesBuffers() {
        let pool = ScratchPool(retained: 2)
        let big = pool.take(100)
        let small = pool.take(10)
        let bigStart = big.pointer
        let smallStart = small.pointer
        pool.give(big)
        pool.give(small)
        let again = pool.take(8)
        #expect(again.pointer == smallStart && again.capacity >= 8)
        let other = pool.take(50)
        #expect(other.pointer == bigStart)
        let fresh = pool.take(200)
        #expect(fresh.capacity >= 200 && fresh.pointer != bigStart)
    }
}
