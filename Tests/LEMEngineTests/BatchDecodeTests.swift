import Foundation
import LEMCore
import LEMEngine
import TestSupport
import Testing

/// Batched decoding: a decode step of several sequences in one forward pass computes each row as
/// that sequence's own one-token step does, and `Generator.runBatch` gives each request what `run`
/// gives it alone.
@Suite("Batched decode")
struct BatchDecodeTests {
    /// Tiny models of each architecture (random, with a sliding window of 4, and the reference
    /// fixtures), plus the two real default models with the `lem` program's options (8-bit
    /// activations, interleaved weights) where they are installed.
    static func models() throws -> [(String, any LanguageModel)] { try loaded.get() }

    /// The models, loaded once for the suite.
    static let loaded = Result { try load() }

    static func load() throws -> [(String, any LanguageModel)] {
        var out: [(String, any LanguageModel)] = [
            ("random llama", try RandomModels.model("llama", sliding: false)),
            ("random gemma3 sliding", try RandomModels.model("gemma3_text", sliding: true))
        ]
        for name in ["gemma3_tiny", "qwen2_tiny"] {
            out.append((name, try ModelFactory.load(TestPaths.fixture("engine/\(name)"))))
        }
        let program = EngineOptions(q8Activations: true)
        for url in [TestPaths.smolLM2, TestPaths.gemma3].compactMap({ $0 }) {
            out.append((url.lastPathComponent, try ModelFactory.load(url, options: program)))
        }
        return out
    }

    static func prompt(_ count: Int, vocab: Int, seed: Int) -> [Int] {
        (0..<count).map { (($0 + 5) * 7919 + seed * 104_729) % vocab }
    }

    @Test("a decode step of three sequences equals each sequence's own step, bit for bit")
    func batchStepEqualsSingleSteps() throws {
        for (name, model) in try Self.models() {
            let v = model.config.vocabSize
            let prompts = [5, 9, 14].enumerated().map { Self.prompt($1, vocab: v, seed: $0) }
            let alone = prompts.map { _ in model.makeCache() }
            let batched = prompts.map { _ in model.makeCache() }
            for (i, p) in prompts.enumerated() {
                _ = try model.forward(tokens: p, cache: alone[i], logits: .last)
                _ = try model.forward(tokens: p, cache: batched[i], logits: .last)
            }
            let workspace = Workspace()
            var next = prompts.map { $0.last! }
            for step in 0..<6 {
                let expected = try next.indices.map { i in
                    try model.forward(tokens: [next[i]], cache: alone[i], logits: .last)
                }
                let rows = Array(try model.decodeInPlace(tokens: next, caches: batched, workspace: workspace))
                #expect(rows.count == 3 * v)
                for i in 0..<3 {
                    let row = Array(rows[(i * v)..<((i + 1) * v)])
                    #expect(row == expected[i], "\(name): sequence \(i) differs at step \(step)")
                    #expect(batched[i].count == alone[i].count)
                }
                next = expected.map { Sampler.argmax($0) }
            }
        }
    }

    @Test("a decode step refuses a cache given twice and a token without its cache")
    func refusesBadBatches() throws {
        let model = try RandomModels.model("llama", sliding: false)
        let cache = model.makeCache()
        _ = try model.forward(tokens: [1, 2], cache: cache, logits: .last)
        #expect(throws: ModelError.sharedCache(row: 1, first: 0)) {
            try model.decodeInPlace(tokens: [3, 4], caches: [cache, cache], workspace: Workspace())
        }
        #expect(throws: ModelError.batchMismatch(tokens: 2, caches: 1)) {
            try model.decodeInPlace(tokens: [3, 4], caches: [cache], workspace: Workspace())
        }
        #expect(cache.count == 2, "a refused step changed the cache")
    }

    /// Each request's ids, text, stop reason and stats from `runBatch`, by request index.
    static func batch(_ generator: Generator, _ requests: [GenerationRequest])
        -> [(ids: [Int], text: String, stats: GenerationStats?)]
    {
        var ids = [[Int]](repeating: [], count: requests.count)
        var text = [String](repeating: "", count: requests.count)
        var finished = [Int](repeating: 0, count: requests.count)
        let stats = generator.runBatch(requests) { i, event in
            switch event {
            case .token(let id, let t):
                #expect(finished[i] == 0, "request \(i) got a token after it finished")
                ids[i].append(id)
                text[i] += t
            case .finished, .failed: finished[i] += 1
            case .promptProcessed: #expect(ids[i].isEmpty)
            }
        }
        #expect(finished.allSatisfy { $0 == 1 }, "every request ends exactly once: \(finished)")
        return (0..<requests.count).map { (ids[$0], text[$0], stats[$0]) }
    }

    /// What `run` gives one request alone.
    static func single(_ generator: Generator, _ request: GenerationRequest) -> (ids: [Int], text: String) {
        var ids: [Int] = []
        var text = ""
        generator.run(request) { event in
            if case .token(let id, let t) = event {
                ids.append(id)
                text += t
            }
        }
        return (ids, text)
    }

    @Test("runBatch gives every request the tokens, text and stop of its own run")
    func runBatchEqualsRuns() throws {
        for (name, model) in try Self.models() {
            let v = model.config.vocabSize
            var requests = (0..<4).map { i in
                GenerationRequest(
                    promptIds: Self.prompt(4 + 3 * i, vocab: v, seed: i), sampling: SamplingSettings(maxTokens: 7 + i),
                    reusePrefix: false)
            }
            requests[1].sampling = SamplingSettings(temperature: 0.8, maxTokens: 9, seed: 11)
            // The letter decoder turns ids into text; a stop string ends one request early.
            requests[2].stopStrings = ["zz", "q"]
            let generator = Generator(model: model, makeDecoder: { LetterDecoder() })
            let alone = requests.map { Self.single(generator, $0) }
            let together = Self.batch(generator, requests)
            for i in requests.indices {
                #expect(together[i].ids == alone[i].ids, "\(name): request \(i)")
                #expect(together[i].text == alone[i].text, "\(name): request \(i) text")
            }
            #expect(together[0].stats?.generatedTokens == 7)
        }
    }

    @Test("prompts sharing a start compute it once; each continues as its own run")
    func sharedStartIsComputedOnce() throws {
        let model = try ModelFactory.load(TestPaths.fixture("engine/gemma3_tiny"))
        let v = model.config.vocabSize
        let start = Self.prompt(20, vocab: v, seed: 9)
        let requests = (0..<3).map { i in
            GenerationRequest(
                promptIds: start + Self.prompt(3 + i, vocab: v, seed: 20 + i), sampling: SamplingSettings(maxTokens: 5),
                reusePrefix: true)
        }
        let alone = requests.map { Self.single(Generator(model: model), $0).ids }
        let together = Self.batch(Generator(model: model), requests)
        for i in requests.indices {
            #expect(together[i].ids == alone[i], "request \(i)")
            #expect(
                together[i].stats?.reusedTokens == 20, "request \(i) reused \(together[i].stats?.reusedTokens ?? -1)")
        }
        // Starts shorter than 16 tokens are not worth a separate pass.
        let short = (0..<2).map { i in
            GenerationRequest(
                promptIds: Array(start[..<10]) + [i + 1, i + 2, i + 3], sampling: SamplingSettings(maxTokens: 2))
        }
        #expect(Self.batch(Generator(model: model), short).allSatisfy { $0.stats?.reusedTokens == 0 })
    }

    @Test("runs started together on a generator decode together and each gets its own tokens")
    func startedRunsJoinTheBatch() async throws {
        let model = try ModelFactory.load(TestPaths.fixture("engine/qwen2_tiny"))
        let v = model.config.vocabSize
        let requests = (0..<5).map { i in
            GenerationRequest(
                promptIds: Self.prompt(3 + 2 * i, vocab: v, seed: i), sampling: SamplingSettings(maxTokens: 4 + 3 * i))
        }
        let alone = requests.map { Self.single(Generator(model: model), $0).ids }
        let generator = Generator(model: model, maxBatch: 3)
        #expect(generator.maxBatch == 3)
        let together = await withTaskGroup(of: (Int, [Int]).self) { group in
            for (i, request) in requests.enumerated() {
                group.addTask {
                    var ids: [Int] = []
                    for await event in generator.stream(request).events {
                        if case .token(let id, _) = event { ids.append(id) }
                    }
                    return (i, ids)
                }
            }
            var out = [[Int]](repeating: [], count: requests.count)
            for await (i, ids) in group { out[i] = ids }
            return out
        }
        #expect(together == alone)
    }

    @Test("a request that cannot start fails alone; cancelling ends every request once")
    func failuresAndCancellation() throws {
        let model = try RandomModels.model("llama", sliding: false)
        let generator = Generator(model: model)
        let good = GenerationRequest(promptIds: [1, 2, 3], sampling: SamplingSettings(maxTokens: 4))
        let empty = GenerationRequest(promptIds: [])
        var failed: [Int] = []
        let stats = generator.runBatch([good, empty, good]) { i, event in
            if case .failed = event { failed.append(i) }
        }
        #expect(failed == [1])
        #expect(stats[0]?.generatedTokens == 4 && stats[1] == nil && stats[2]?.generatedTokens == 4)

        let handle = GenerationHandle()
        var tokens = 0
        var reasons: [Int: StopReason] = [:]
        _ = generator.runBatch([good, good, good], handle: handle) { i, event in
            switch event {
            case .token:
                tokens += 1
                if tokens == 4 { handle.cancel() }
            case .finished(let s): reasons[i] = s.stopReason
            default: break
            }
        }
        #expect(reasons.count == 3)
        #expect(reasons.values.allSatisfy { $0 == .cancelled })
    }
}
