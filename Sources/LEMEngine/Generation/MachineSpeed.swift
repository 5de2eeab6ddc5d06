import COpenBLAS
import Dispatch
import Foundation

/// The machine's own limits, measured so inference figures can be stated as a fraction of them:
/// DRAM read bandwidth (the decode bound) and OpenBLAS `sgemm` throughput (the prefill bound).
public enum MachineSpeed {
    /// DRAM read bandwidth in GB/s (10⁹ bytes): `threads` threads each sum their contiguous
    /// slice of a `bytes` f32 buffer with eight-lane SIMD (four accumulators), best of `repeats`.
    ///
    /// The buffer is written once first so every page is resident; it should be far larger than
    /// the last-level cache (≥ 1 GB here, L3 is 32 MB).
    public static func readBandwidth(threads: Int, bytes: Int = 1 << 30, repeats: Int = 5) -> Double {
        let count = max(1 << 10, bytes / 4) / 32 * 32
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)  // (count)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: 1, count: count)
        let workers = max(1, threads)
        let perWorker = (count / workers) / 32 * 32
        let shared = BenchPointer(base: buffer)
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: workers)  // (workers)
        defer { sums.deallocate() }
        let sumsShared = BenchPointer(base: sums)
        var best = Double.infinity
        for _ in 0..<max(1, repeats) {
            let start = DispatchTime.now()
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let begin = w * perWorker
                let end = w == workers - 1 ? count : begin + perWorker
                sumsShared.base[w] = sum(shared.base + begin, count: end - begin)
            }
            let seconds = SpeedBenchmark.seconds(start, DispatchTime.now())
            best = min(best, seconds)
            // The sums are checked so the reads cannot be optimised away.
            var total: Float = 0
            for w in 0..<workers { total += sumsShared.base[w] }
            precondition(total > 0, "bandwidth buffer summed to \(total)")
        }
        return Double(count * 4) / best / 1e9
    }

    /// Sum of `count` floats (a multiple of 32), 32 per step in four SIMD8 accumulators.
    static func sum(_ p: UnsafeMutablePointer<Float>, count: Int) -> Float {
        var a0 = SIMD8<Float>()
        var a1 = SIMD8<Float>()
        var a2 = SIMD8<Float>()
        var a3 = SIMD8<Float>()
        let raw = UnsafeRawPointer(p)
        var i = 0
        while i + 32 <= count {
            a0 += raw.load(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            a1 += raw.load(fromByteOffset: i * 4 + 32, as: SIMD8<Float>.self)
            a2 += raw.load(fromByteOffset: i * 4 + 64, as: SIMD8<Float>.self)
            a3 += raw.load(fromByteOffset: i * 4 + 96, as: SIMD8<Float>.self)
            i += 32
        }
        var total = ((a0 + a1) + (a2 + a3)).sum()
        while i < count {
            total += p[i]
            i += 1
        }
        return total
    }

    /// OpenBLAS `sgemm` throughput in GFLOP/s for `out(T, N) = x(T, K) · w(N, K)ᵀ` — the shape of
    /// a prefill linear layer (T tokens, K in, N out features) — on `threads` threads, best of
    /// `repeats` after one warm-up call. FLOPs = 2·T·K·N. Each thread runs a single-threaded
    /// `sgemm` on its share of the N output columns, which is how the engine and the trainer use
    /// OpenBLAS (`Kernels.setThreadCount`).
    public static func sgemm(tokens: Int, inFeatures: Int, outFeatures: Int, threads: Int, repeats: Int = 5) -> Double {
        let (t, k, n) = (max(1, tokens), max(1, inFeatures), max(1, outFeatures))
        let parts = max(1, min(threads, n))
        Kernels.useSerialBLAS()
        var rng = Xoshiro256(seed: 1)
        let x = (0..<t * k).map { _ in rng.nextUnitFloat() - 0.5 }  // (T, K)
        let w = (0..<n * k).map { _ in rng.nextUnitFloat() - 0.5 }  // (N, K)
        var out = [Float](repeating: 0, count: t * n)  // (T, N)
        func call() {
            x.withUnsafeBufferPointer { xp in
                w.withUnsafeBufferPointer { wp in
                    out.withUnsafeMutableBufferPointer { op in
                        let xs = BenchPointer(base: UnsafeMutablePointer(mutating: xp.baseAddress!))
                        let ws = BenchPointer(base: UnsafeMutablePointer(mutating: wp.baseAddress!))
                        let os = BenchPointer(base: op.baseAddress!)
                        DispatchQueue.concurrentPerform(iterations: parts) { part in
                            let first = n * part / parts
                            let columns = n * (part + 1) / parts - first
                            cblas_sgemm(
                                CblasRowMajor, CblasNoTrans, CblasTrans, Int32(t), Int32(columns), Int32(k), 1,
                                xs.base, Int32(k), ws.base + first * k, Int32(k), 0, os.base + first, Int32(n))
                        }
                    }
                }
            }
        }
        call()
        var best = Double.infinity
        for _ in 0..<max(1, repeats) {
            let start = DispatchTime.now()
            call()
            best = min(best, SpeedBenchmark.seconds(start, DispatchTime.now()))
        }
        return 2 * Double(t) * Double(k) * Double(n) / best / 1e9
    }
}

/// A buffer handed to benchmark worker threads, each touching its own part.
private struct BenchPointer: @unchecked Sendable {
    let base: UnsafeMutablePointer<Float>
}
