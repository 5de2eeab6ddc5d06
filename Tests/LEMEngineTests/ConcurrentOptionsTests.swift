import Foundation
import LEMEngine
import LEMFormats
import TestSupport
import Testing

/// Results written by concurrent callers, one slot each.
private final class Slots: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int: [[Float]]] = [:]

    func append(_ value: [Float], to slot: Int) { lock.withLock { values[slot, default: []].append(value) } }
    subscript(slot: Int) -> [[Float]] { lock.withLock { values[slot] ?? [] } }
}

/// Options are per call and per model: two callers with different options, running at the same
/// time on two threads (and sharing the kernel pool), each get exactly the numbers they get alone.
@Suite struct ConcurrentOptionsTests {
    static let rounds = 40

    /// Two option sets far apart: AVX2, 8-bit activations and eight-row kernels against the
    /// portable kernels in exact f32 one row at a time.
    static let fast = EngineOptions(q8Activations: true)
    static let portable = EngineOptions(simd: false, q8Activations: false, eightRowKernels: false)

    /// Matvecs over one matrix (large enough to be split over the pool) with each option set,
    /// concurrently, equal each option set's serial result bit for bit, every round.
    @Test(arguments: [(GGMLType.q8_0, [0]), (.q4_0, [0]), (.q4_K, [0, 2])])
    func matvecsKeepTheirOptions(type: GGMLType, scaleOffsets: [Int]) throws {
        let cols = 1024
        let matrix = QuantizedMatvecTests.randomGGML(type, rows: 512, cols: cols, scaleOffsets: scaleOffsets, seed: 7)
        let kernel = try #require(matrix.kernel)
        let x = QuantizedMatvecTests.activation(cols, seed: 5)
        let options = [Self.fast, Self.portable, EngineOptions(q8Activations: true, eightRowKernels: false)]
        @Sendable func run(_ options: EngineOptions, serial: Bool) -> [Float] {
            var scratch = [Float](repeating: 0, count: Kernels.activationScratchFloats(columns: cols))
            var out = [Float](repeating: .nan, count: kernel.rows)
            x.withUnsafeBufferPointer { xp in
                if serial {
                    Kernels.matvec(
                        xp.baseAddress!, kernel: kernel, scratch: &scratch, out: &out, options: options, serial: true)
                } else {
                    Kernels.matvec(xp.baseAddress!, kernel: kernel, scratch: &scratch, out: &out, options: options)
                }
            }
            return out
        }
        let alone = options.map { run($0, serial: true) }
        #expect(alone.allSatisfy { $0.allSatisfy(\.isFinite) })
        #expect(alone[0] != alone[1], "the two paths should differ in their last bits, else this test proves nothing")
        let slots = Slots()
        DispatchQueue.concurrentPerform(iterations: options.count) { caller in
            for _ in 0..<Self.rounds { slots.append(run(options[caller], serial: false), to: caller) }
        }
        for caller in options.indices {
            let results = slots[caller]
            #expect(results.count == Self.rounds)
            #expect(
                results.allSatisfy { $0 == alone[caller] }, "\(type.name) caller \(caller) got another caller's numbers"
            )
        }
    }

    /// Attention with the AVX2 and the portable bodies at once: a prefill chunk (split over the
    /// pool by heads) and one token over a long cache (split by slots).
    @Test(arguments: [(24, 200), (1, 600)])
    func attentionKeepsItsOptions(tokens: Int, slots: Int) {
        let heads = 4
        let kvHeads = 2
        let d = 64
        var rng = Xoshiro256(seed: UInt64(tokens + slots))
        let q = randomFloats(tokens * heads * d, rng: &rng)
        let k = randomFloats(slots * kvHeads * d, rng: &rng)
        let v = randomFloats(slots * kvHeads * d, rng: &rng)
        let keyPositions = Array(0..<slots)
        let queryPositions = Array((slots - tokens)..<slots)
        let rows = Kernels.threadCount
        @Sendable func run(_ options: EngineOptions) -> [Float] {
            var scores = [Float](
                repeating: 0,
                count: rows * Kernels.attentionScratchRow(slots: slots, heads: heads, kvHeads: kvHeads, headDim: d))
            var out = [Float](repeating: .nan, count: q.count)
            Kernels.attention(
                queries: q, queryPositions: queryPositions, keys: k, values: v, keyPositions: keyPositions,
                tokens: tokens, slots: slots, heads: heads, kvHeads: kvHeads, headDim: d, scale: 0.125, window: 0,
                softcap: 0, scores: &scores, scoreRows: rows, out: &out, options: options)
            return out
        }
        let options = [Self.fast, Self.portable]
        let alone = options.map(run)
        let results = Slots()
        DispatchQueue.concurrentPerform(iterations: 2) { caller in
            for _ in 0..<Self.rounds { results.append(run(options[caller]), to: caller) }
        }
        for caller in 0..<2 {
            #expect(results[caller].count == Self.rounds)
            #expect(results[caller].allSatisfy { $0 == alone[caller] }, "T=\(tokens) caller \(caller)")
        }
    }

    /// Two models of one checkpoint built with different options (interleaved copies, fusion,
    /// activations, kernels), generating at the same time, give the logits each gives alone.
    @Test(arguments: ["llama3_tiny-mlx4", "gemma3_tiny-mlx4"])
    func modelsKeepTheirOptions(fixture: String) throws {
        let files = try ModelFiles.open(TestPaths.fixture("engine/\(fixture)"))
        var other = Self.portable
        other.fuseMatvecs = false
        other.interleaveWeights = false
        other.prefill = .poolTiles
        let models = [
            try ModelFactory.makeModel(files, options: Self.fast), try ModelFactory.makeModel(files, options: other)
        ]
        #expect(models.map(\.options) == [Self.fast, other])
        let prompt = [1, 5, 9, 14, 3, 7, 2, 11]
        // A prefill, then greedy decode steps; every step's logits in order.
        @Sendable func generate(_ model: any LanguageModel) throws -> [[Float]] {
            let cache = model.makeCache()
            var logits = [try model.forward(tokens: prompt, cache: cache, logits: .last)]
            for _ in 0..<6 {
                logits.append(try model.forward(tokens: [Sampler.argmax(logits.last!)], cache: cache, logits: .last))
            }
            return logits
        }
        let alone = try models.map(generate)
        #expect(alone[0] != alone[1], "the two builds should differ, else this test proves nothing")
        let results = Slots()
        DispatchQueue.concurrentPerform(iterations: 2) { caller in
            for _ in 0..<5 {
                for step in (try? generate(models[caller])) ?? [] { results.append(step, to: caller) }
            }
        }
        for caller in 0..<2 {
            #expect(
                results[caller] == Array(repeating: alone[caller], count: 5).flatMap { $0 },
                "\(fixture) model \(caller)")
        }
    }
}
