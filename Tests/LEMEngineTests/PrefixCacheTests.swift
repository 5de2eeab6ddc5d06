import Foundation
import LEMCore
import LEMEngine
import LEMFormats
import TestSupport
import Testing

/// `KVSnapshot` and `PrefixCache`: a restored prefix continues exactly as a fresh prefill (logits
/// within 1e-5, greedy ids equal), sliding layers are restored only where their ring still holds
/// what the continuation sees, and the cache's matching, scopes and byte bound.
@Suite("Prefix cache")
struct PrefixCacheTests {
    /// Tiny models of each architecture: random ones (sliding window 4) and the reference fixtures.
    static func models() throws -> [(String, any LanguageModel)] {
        var out: [(String, any LanguageModel)] = [
            ("random llama", try RandomModels.model("llama", sliding: false)),
            ("random qwen2", try RandomModels.model("qwen2", sliding: false)),
            ("random gemma3 sliding", try RandomModels.model("gemma3_text", sliding: true))
        ]
        for name in ["gemma3_tiny", "llama3_tiny", "qwen2_tiny"] {
            out.append((name, try ModelFactory.load(TestPaths.fixture("engine/\(name)"))))
        }
        return out
    }

    static func tokens(_ count: Int, vocab: Int, seed: Int) -> [Int] {
        (0..<count).map { (($0 + 3) * 7919 + seed * 104_729) % vocab }
    }

    /// The cache after `prefill` tokens in one chunk, then the rest one token at a time (as a
    /// generation leaves it: a sliding ring then holds only its window).
    static func computed(_ model: any LanguageModel, _ tokens: [Int], prefill: Int) throws -> KVCache {
        let cache = model.makeCache()
        _ = try model.forward(tokens: Array(tokens[..<prefill]), cache: cache, logits: .last)
        for id in tokens[prefill...] { _ = try model.forward(tokens: [id], cache: cache, logits: .last) }
        return cache
    }

    @Test("every restorable length continues with the logits of a fresh prefill (within 1e-5)")
    func restoredMatchesFresh() throws {
        for (name, model) in try Self.models() {
            let all = Self.tokens(30, vocab: model.config.vocabSize, seed: 1)
            let fresh = try model.forward(tokens: all, cache: model.makeCache(), logits: .all)
            let v = model.config.vocabSize
            let snapshot = KVSnapshot(
                cache: try Self.computed(model, Array(all[..<24]), prefill: 10), tokens: Array(all[..<24]))
            var restored = 0
            var refused = 0
            for length in 0...24 {
                guard snapshot.canRestore(length: length) else {
                    refused += 1
                    continue
                }
                restored += 1
                let cache = snapshot.restore(length: length, config: model.config)
                #expect(cache.count == length)
                let logits = try model.forward(tokens: Array(all[length...]), cache: cache, logits: .all)
                let expected = fresh[(length * v)...]
                if let problem = checkClose(logits, expected, tol: 1e-5, label: "\(name) restored at \(length)") {
                    Issue.record(Comment(rawValue: problem))
                }
            }
            let sliding = (0..<model.config.numHiddenLayers).contains { model.config.window(layer: $0) != nil }
            #expect(snapshot.canRestore(length: 24), "\(name): the full snapshot must restore")
            // Full attention keeps everything: any length; a sliding ring of window W after decode
            // keeps W positions, so only lengths from 24 − 1 on (the ring's first + W − 1) restore.
            if sliding {
                #expect(refused > 0 && restored >= 2, "\(name): \(restored) restored, \(refused) refused")
            } else {
                #expect(restored == 25, "\(name): \(restored) of 25 lengths restored")
            }
        }
    }

    @Test("the sliding rule: a ring of window W restores length L only when it holds L − W + 1 ..< L")
    func slidingRule() throws {
        let model = try RandomModels.model("gemma3_text", sliding: true)  // window 4
        let ids = Self.tokens(20, vocab: model.config.vocabSize, seed: 2)
        // Decoded one by one: the ring holds positions 16 ..< 20.
        let decoded = KVSnapshot(cache: try Self.computed(model, ids, prefill: 1), tokens: ids)
        #expect(decoded.layers[0].first == 16 && decoded.layers[1].first == 0 && decoded.layers[2].first == 16)
        #expect(decoded.canRestore(length: 20) && decoded.canRestore(length: 19))
        #expect(!decoded.canRestore(length: 18) && !decoded.canRestore(length: 5) && decoded.canRestore(length: 0))
        // One chunk of 20: the ring grew to hold them all, so every length restores.
        let chunked = KVSnapshot(cache: try Self.computed(model, ids, prefill: 20), tokens: ids)
        #expect((0...20).allSatisfy { chunked.canRestore(length: $0) })
        #expect(!chunked.canRestore(length: 21))
        // What is restored is only what a query can see: W − 1 rows for a sliding layer.
        let cache = chunked.restore(length: 12, config: model.config)
        #expect(cache.layers[0].heldPositions == [9, 10, 11] && cache.layers[0].shared == nil)
        #expect(cache.layers[1].heldPositions == Array(0..<12) && cache.layers[1].sharedCount == 12)
    }

    @Test("caches restored from one snapshot share its full-attention rows; each continues alone, as a fresh prefill")
    func restoredCachesShareTheSnapshot() throws {
        for (name, model) in try Self.models() {
            let v = model.config.vocabSize
            let prefix = Self.tokens(20, vocab: v, seed: 3)
            let snapshot = KVSnapshot(cache: try Self.computed(model, prefix, prefill: 20), tokens: prefix)
            let a = snapshot.restore(length: 20, config: model.config)
            let b = snapshot.restore(length: 20, config: model.config)
            for (i, (la, lb)) in zip(a.layers, b.layers).enumerated() where la.window == 0 {
                // The same storage, not a copy: the snapshot's own array.
                let pa = la.shared?.keys.withUnsafeBufferPointer { $0.baseAddress }
                let pb = lb.shared?.keys.withUnsafeBufferPointer { $0.baseAddress }
                let ps = snapshot.layers[i].keys.withUnsafeBufferPointer { $0.baseAddress }
                #expect(pa != nil && pa == pb && pa == ps, "\(name) layer \(i) copies its rows")
                #expect(la.capacity == 0, "\(name) layer \(i): no own slots before a continuation")
            }
            // Two different continuations, prefilled then decoded, interleaved on the two caches.
            for (seed, cache) in [(4, a), (5, b)] {
                let rest = Self.tokens(9, vocab: v, seed: seed)
                let all = prefix + rest
                let fresh = try model.forward(tokens: all, cache: model.makeCache(), logits: .all)
                var got = try model.forward(tokens: Array(rest[..<5]), cache: cache, logits: .all)
                for id in rest[5...] { got += try model.forward(tokens: [id], cache: cache, logits: .last) }
                if let problem = checkClose(got, fresh[(20 * v)...], tol: 1e-5, label: "\(name) fork \(seed)") {
                    Issue.record(Comment(rawValue: problem))
                }
                // A snapshot of the continued cache holds the shared rows and its own.
                let again = KVSnapshot(cache: cache, tokens: all)
                let logits = try model.forward(
                    tokens: [1], cache: again.restore(length: all.count, config: model.config), logits: .last)
                let direct = try model.forward(tokens: all + [1], cache: model.makeCache(), logits: .last)
                #expect(checkClose(logits, direct, tol: 1e-5, label: "\(name) snapshot of a fork") == nil)
            }
        }
    }

    /// Runs `request` and returns the ids and stats.
    /// The fixture model `name` with a fresh 64 MiB prefix cache, a generator using it and one
    /// without it.
    static func generators(_ name: String) throws -> (
        model: any LanguageModel, prefixes: PrefixCache, scope: PrefixCache.Scope, cached: Generator, cold: Generator
    ) {
        let model = try ModelFactory.load(TestPaths.fixture("engine/\(name)"))
        let prefixes = PrefixCache(capacityBytes: 64 << 20)
        let scope = PrefixCache.scope(for: ModelKey(model: name))
        return (
            model, prefixes, scope, Generator(model: model, prefixCache: prefixes, scope: scope),
            Generator(model: model)
        )
    }

    static func run(_ generator: Generator, _ request: GenerationRequest) -> (ids: [Int], stats: GenerationStats?) {
        var ids: [Int] = []
        let stats = generator.run(request) { if case .token(let id, _) = $0 { ids.append(id) } }
        return (ids, stats)
    }

    @Test("chat-like turns reuse the conversation so far; greedy ids equal runs without the cache")
    func generatorTurns() throws {
        for name in ["llama3_tiny", "gemma3_tiny", "qwen2_tiny"] {
            let (model, _, _, cached, cold) = try Self.generators(name)
            let v = model.config.vocabSize
            var prompt = Self.tokens(12, vocab: v, seed: 3)
            var previous: [Int] = []  // what the last run left in the cache
            for turn in 0..<4 {
                let request = GenerationRequest(promptIds: prompt, sampling: SamplingSettings(maxTokens: 6))
                let reused = Self.run(cached, request)
                let fresh = Self.run(cold, request)
                #expect(reused.ids == fresh.ids, "\(name) turn \(turn): \(reused.ids) vs \(fresh.ids)")
                #expect(fresh.stats?.reusedTokens == 0)
                // The entry left by the last turn is its prompt and every sampled id but the last;
                // this prompt extends it, so all of it is restored (gemma3_tiny's rings, window 8,
                // still hold the 7 positions before its end).
                let expected = turn == 0 ? 0 : previous.count
                #expect(reused.stats?.reusedTokens == expected, "\(name) turn \(turn)")
                previous = prompt + reused.ids.dropLast()
                prompt = prompt + reused.ids + Self.tokens(3, vocab: v, seed: 10 + turn)
            }
            // Regenerating the last prompt: all but its last two tokens come from the cache.
            let last = GenerationRequest(promptIds: previous, sampling: SamplingSettings(maxTokens: 4))
            let again = Self.run(cached, last)
            let fresh = Self.run(cold, last)
            #expect(again.ids == fresh.ids)
            #expect(again.stats?.reusedTokens == previous.count - 2, "\(name) regenerate")
            // reusePrefix false neither reads nor counts.
            var off = last
            off.reusePrefix = false
            #expect(Self.run(cached, off).stats?.reusedTokens == 0)
        }
    }

    @Test("a prefix a sliding ring dropped is recomputed, snapshotted where prompts diverge, then reused")
    func slidingFallbackAndBranch() throws {
        let (model, prefixes, scope, cached, cold) = try Self.generators("gemma3_tiny")  // window 8
        let v = model.config.vocabSize
        let shared = Self.tokens(10, vocab: v, seed: 4)
        var reusedCounts: [Int] = []
        for (k, seed) in [5, 6, 7].enumerated() {
            let prompt = shared + Self.tokens(20, vocab: v, seed: seed)
            let request = GenerationRequest(
                promptIds: prompt, sampling: SamplingSettings(maxTokens: 6), prefillChunk: 8)
            let reused = Self.run(cached, request)
            let fresh = Self.run(cold, request)
            #expect(reused.ids == fresh.ids, "prompt \(k)")
            reusedCounts.append(reused.stats?.reusedTokens ?? -1)
        }
        // 1st: empty cache. 2nd: the 1st run's entries (its prompt's end, and prompt + answer)
        // hold rings of 8 + 8 − 1 slots after 8-token chunks, so they start past position 10 and
        // cannot restore the shared 10: recomputed, and snapshotted at 10. 3rd: that snapshot serves.
        #expect(reusedCounts == [0, 0, 10])
        #expect(prefixes.tokens(scope: scope).contains(shared))
    }

    @Test("independent prompts sharing a start (a kernel, a rubric) reuse it and keep no per-prompt state")
    func independentPrompts() throws {
        let (model, prefixes, _, cached, cold) = try Self.generators("llama3_tiny")
        let v = model.config.vocabSize
        let kernel = Self.tokens(14, vocab: v, seed: 20)
        var reused: [Int] = []
        for item in 0..<5 {
            let request = GenerationRequest(
                promptIds: kernel + Self.tokens(5, vocab: v, seed: 30 + item), sampling: SamplingSettings(maxTokens: 5),
                keepAnswer: false)
            let a = Self.run(cached, request)
            let b = Self.run(cold, request)
            #expect(a.ids == b.ids, "item \(item)")
            reused.append(a.stats?.reusedTokens ?? -1)
        }
        // The first prompt is kept whole (its end: the answer is not); later ones restore the
        // shared start from it and add nothing.
        #expect(reused == [0, 14, 14, 14, 14])
        #expect(prefixes.statistics.entries == 1)
    }

    @Test("entries are scoped per load, covered entries dropped, the byte bound kept least recently used")
    func matchingScopesAndBound() throws {
        let model = try RandomModels.model("llama", sliding: false)
        let ids = Self.tokens(20, vocab: model.config.vocabSize, seed: 8)
        func snapshot(_ n: Int, _ tokens: [Int] = ids) throws -> KVSnapshot {
            KVSnapshot(cache: try Self.computed(model, Array(tokens[..<n]), prefill: n), tokens: Array(tokens[..<n]))
        }
        let a = PrefixCache.scope(for: ModelKey(model: "m"))
        let b = PrefixCache.scope(for: ModelKey(model: "m"))
        #expect(a != b)
        let cache = PrefixCache(capacityBytes: 1 << 20)
        cache.insert(try snapshot(8), scope: a)
        #expect(cache.lookup(ids, scope: b, limit: 19).snapshot == nil)
        var match = cache.lookup(ids, scope: a, limit: 19)
        #expect(match.length == 8 && match.shared == 8)
        match = cache.lookup(ids, scope: a, limit: 5)
        #expect(match.length == 5)
        // A longer entry extending it covers it: the shorter one goes.
        cache.insert(try snapshot(12), scope: a)
        #expect(cache.tokens(scope: a) == [Array(ids[..<12])])
        // A diverging entry stays beside it; the longest common prefix wins.
        var other = ids
        other[10] = (other[10] + 1) % model.config.vocabSize
        cache.insert(try snapshot(16, other), scope: a)
        #expect(cache.tokens(scope: a).count == 2)
        #expect(cache.lookup(other, scope: a, limit: 19).length == 16)
        #expect(cache.lookup(ids, scope: a, limit: 19).length == 12)
        // The bound: room for about two of these; the least recently used goes first.
        let one = try snapshot(12).bytes
        let small = PrefixCache(capacityBytes: 2 * one + one / 2)
        let x = try snapshot(12)
        let y = try snapshot(12, other)
        let z = try snapshot(12, Self.tokens(20, vocab: 40, seed: 9))
        small.insert(x, scope: a)
        small.insert(y, scope: a)
        _ = small.lookup(ids, scope: a, limit: 19)  // x becomes the most recently used
        small.insert(z, scope: a)
        #expect(small.tokens(scope: a) == [x.tokens, z.tokens])
        #expect(small.statistics.bytes <= small.capacityBytes && small.statistics.entries == 2)
        small.remove(model: ModelKey(model: "m"))
        #expect(small.statistics.entries == 0)
        // Larger than the whole bound: not kept.
        let tiny = PrefixCache(capacityBytes: one - 1)
        tiny.insert(x, scope: a)
        #expect(tiny.statistics.entries == 0)
    }

    /// A three-turn chat on a real model, exact and 8-bit activations: each later prompt,
    /// restored from the entry the earlier turns left (its decoded tokens included), gives the
    /// logits of one fresh prefill of the whole prompt within 1e-5, and the
    /// generator's greedy ids with the cache equal those without.
    func checkRealModel(_ url: URL, name: String) throws {
        for q8 in [false, true] {
            let loaded = try LoadedModel.load(ModelKey(model: url), options: EngineOptions(q8Activations: q8))
            let model = loaded.model
            let prefixes = try #require(loaded.prefixCache)
            let scope = try #require(loaded.generator.prefixScope)
            var messages: [ChatMessage] = [.user("Name three colours of the rainbow.")]
            for turn in 0..<3 {
                var request = try loaded.chatRequest(messages: messages, sampling: SamplingSettings(maxTokens: 12))
                let prompt = request.promptIds
                if turn > 0 {
                    let match = prefixes.lookup(prompt, scope: scope, limit: prompt.count - 2)
                    let snapshot = try #require(match.snapshot, "\(name) q8 \(q8) turn \(turn): nothing cached")
                    let restored = snapshot.restore(length: match.length, config: model.config)
                    let logits = try model.forward(
                        tokens: Array(prompt[match.length...]), cache: restored, logits: .last)
                    let fresh = try model.forward(tokens: prompt, cache: model.makeCache(), logits: .last)
                    let scale = Double(fresh.map { abs($0) }.max() ?? 1)
                    let c = compare(logits, fresh)
                    print(
                        "\(name) q8 \(q8) turn \(turn): restored \(match.length) of \(prompt.count); \(c); max |logit| \(scale)"
                    )
                    #expect(c.maxAbs <= 1e-5, "\(name) q8 \(q8) turn \(turn): \(c)")
                    #expect(Sampler.argmax(logits) == Sampler.argmax(fresh))
                }
                let reused = Self.run(loaded.generator, request)
                request.reusePrefix = false
                let cold = Self.run(loaded.generator, request)
                #expect(reused.ids == cold.ids, "\(name) q8 \(q8) turn \(turn): \(reused.ids) vs \(cold.ids)")
                if turn > 0 { #expect((reused.stats?.reusedTokens ?? 0) > 0, "\(name) q8 \(q8) turn \(turn)") }
                var text = ""
                var decoder = loaded.makeDecoder()
                for id in reused.ids where !loaded.chatStopIds.contains(id) { text += decoder.push(id) }
                text += decoder.finish()
                messages.append(.assistant(text.trimmingCharacters(in: .whitespacesAndNewlines)))
                messages.append(.user(["And two more?", "Which is your favourite?"][turn % 2]))
            }
        }
    }

    @Test(
        "SmolLM2-135M: chat turns restored from the cache equal fresh prefills",
        .enabled(if: TestPaths.smolLM2 != nil, "SmolLM2 not installed: run Scripts/setup.sh"))
    func smolLM2() throws { try checkRealModel(TestPaths.smolLM2!, name: "smollm2") }

    @Test(
        "Gemma 3 270M: chat turns restored from the cache equal fresh prefills (sliding layers included)",
        .enabled(if: TestPaths.gemma3 != nil, "Gemma 3 270M not installed: run Scripts/setup.sh"))
    func gemma3() throws { try checkRealModel(TestPaths.gemma3!, name: "gemma3") }
}
