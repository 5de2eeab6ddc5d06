import Foundation
import LEMEngine
import TestSupport
import Testing

/// transformers' eager attention on a tiny model (Scripts/fixtures_attention.py).
struct AttentionReference: Decodable {
    let inputIds: [Int]
    let windows: [Int]
    /// [L][H][T][T]
    let attentions: [[[[Float]]]]
    /// [L][T][K][D]
    let keys: [[[[Float]]]]
    /// [L][H] statistic name → value
    let stats: [[[String: Double]]]
    enum CodingKeys: String, CodingKey {
        case inputIds = "input_ids"
        case windows, attentions, keys, stats
    }

    static func load(_ name: String) throws -> AttentionReference {
        let data = try Data(contentsOf: TestPaths.fixture("attention/\(name).json"))
        return try JSONDecoder().decode(AttentionReference.self, from: data)
    }
}

@Suite("Attention capture")
struct AttentionCaptureTests {
    static let models = ["gemma3_tiny", "llama3_tiny"]

    @Test("probabilities, post-RoPE keys and statistics match transformers eager to 1e-5", arguments: models)
    func matchesTransformers(name: String) throws {
        let ref = try AttentionReference.load(name)
        let model = try ModelFactory.load(TestPaths.fixture("engine/\(name)"))
        let (capture, ids) = try AttentionRunner.capture(model: model, ids: ref.inputIds)
        #expect(ids == ref.inputIds)
        let t = ref.inputIds.count
        #expect(capture.count == t)
        #expect(capture.windows == ref.windows)
        if name == "gemma3_tiny" {
            // The sequence must outgrow the window and cover both layer kinds.
            #expect(ref.windows.contains(0) && ref.windows.contains { $0 > 0 && $0 < t })
        }
        var worst = 0.0
        for l in 0..<capture.layers {
            for h in 0..<capture.heads {
                let expected = ref.attentions[l][h].flatMap { $0 }
                let map = capture.map(layer: l, head: h)
                worst = max(worst, compare(map, expected).maxAbs)
                #expect(checkClose(map, expected, tol: 1e-5, label: "\(name) L\(l) H\(h) probabilities") == nil)
                let stats = HeadStatistics(map: map, tokens: t, window: capture.windows[l])
                for (key, value) in ref.stats[l][h] {
                    let actual = try #require(stats.value(key), "unknown statistic \(key)")
                    #expect(abs(actual - value) <= 1e-5, "\(name) L\(l) H\(h) \(key): \(actual) vs \(value)")
                }
            }
            let keys = ref.keys[l].flatMap { $0.flatMap { $0 } }
            #expect(checkClose(capture.keys(layer: l), keys, tol: 1e-5, label: "\(name) L\(l) keys") == nil)
        }
        print("\(name): worst probability difference \(worst)")
    }

    @Test("a prompt and one-token steps over several forward calls capture what one call does")
    func incrementalEqualsFull() throws {
        let ref = try AttentionReference.load("gemma3_tiny")
        let model = try ModelFactory.load(TestPaths.fixture("engine/gemma3_tiny"))
        let (full, _) = try AttentionRunner.capture(model: model, ids: ref.inputIds)
        let cache = model.makeCache()
        let stepped = AttentionCapture(config: model.config)
        cache.capture = stepped
        _ = try model.forward(tokens: Array(ref.inputIds[0..<11]), cache: cache, logits: .last)
        for id in ref.inputIds[11...] { _ = try model.forward(tokens: [id], cache: cache, logits: .last) }
        #expect(stepped.count == ref.inputIds.count)
        for l in 0..<full.layers {
            #expect(checkClose(stepped.keys(layer: l), full.keys(layer: l), tol: 1e-5, label: "L\(l) keys") == nil)
            for h in 0..<full.heads {
                #expect(
                    checkClose(
                        stepped.map(layer: l, head: h), full.map(layer: l, head: h), tol: 1e-5, label: "L\(l) H\(h)")
                        == nil)
            }
        }
    }

    @Test("capture on and off give bit-identical logits", arguments: ["gemma3_tiny", "llama3_tiny", "qwen2_tiny"])
    func captureDoesNotChangeLogits(name: String) throws {
        let ref = try TinyModelReference.load(file: "engine/\(name)/reference.json")
        let model = try ModelFactory.load(TestPaths.fixture("engine/\(name)"))
        let off = try model.forward(tokens: ref.inputIds, cache: model.makeCache(), logits: .all)
        let cache = model.makeCache()
        cache.capture = AttentionCapture(config: model.config, keepQueries: true)
        let on = try model.forward(tokens: ref.inputIds, cache: cache, logits: .all)
        #expect(on == off)
        #expect(cache.capture?.count == ref.inputIds.count)
        #expect(
            cache.capture?.queries(layer: 0).count == ref.inputIds.count * model.config.numAttentionHeads
                * model.config.headDim)
    }

    @Test("the token cap is enforced before anything runs, with a message naming it")
    func tokenCap() throws {
        let model = try ModelFactory.load(TestPaths.fixture("engine/gemma3_tiny"))
        #expect(throws: AttentionError.tooManyTokens(requested: 12, limit: 10)) {
            _ = try AttentionRunner.capture(model: model, ids: Array(repeating: 5, count: 12), maxTokens: 10)
        }
        // Directly through the hook: the first layer refuses before the cache changes.
        let cache = model.makeCache()
        cache.capture = AttentionCapture(config: model.config, maxTokens: 4)
        #expect(throws: AttentionError.self) {
            _ = try model.forward(tokens: [5, 6, 7, 8, 9], cache: cache, logits: .last)
        }
        #expect(cache.count == 0)
        #expect("\(AttentionError.tooManyTokens(requested: 12, limit: 10))".contains("cap of 10"))
        let bytes = AttentionCapture.estimatedBytes(config: model.config, tokens: 20)
        #expect(bytes == 4 * (4 * 4 * 210 + 4 * 20 * 2 * 32))
    }
}

@Suite("Attention comparison with an adapter")
struct AttentionAdapterComparisonTests {
    @Test("a LoRA adapter changes the maps; at scale 0 it changes nothing")
    func adapterChangesAttention() throws {
        let ref = try AttentionReference.load("gemma3_tiny")
        let base = try ModelFactory.load(TestPaths.fixture("engine/gemma3_tiny"))
        let folder = TestPaths.fixture("adapters/gemma3_lora")
        let adapted = try ModelFactory.load(TestPaths.fixture("engine/gemma3_tiny"), adapterFolder: folder)
        let off = try ModelFactory.load(TestPaths.fixture("engine/gemma3_tiny"), adapterFolder: folder, adapterScale: 0)
        let a = try AttentionAnalysis(
            capture: AttentionRunner.capture(model: base, ids: ref.inputIds).capture, ids: ref.inputIds, keepMaps: true)
        let b = try AttentionAnalysis(
            capture: AttentionRunner.capture(model: adapted, ids: ref.inputIds).capture, ids: ref.inputIds,
            keepMaps: true)
        let z = try AttentionAnalysis(
            capture: AttentionRunner.capture(model: off, ids: ref.inputIds).capture, ids: ref.inputIds, keepMaps: true)
        let changed = try AttentionComparison(a, b)
        let top = try #require(changed.ranked.first)
        #expect(top.mapMeanAbsDiff > 1e-4)
        #expect(changed.ranked.map(\.mapMeanAbsDiff) == changed.ranked.map(\.mapMeanAbsDiff).sorted(by: >))
        let unchanged = try AttentionComparison(a, z)
        #expect(unchanged.heads.allSatisfy { $0.mapMaxAbsDiff < 1e-6 })
        print("gemma3_lora: most changed head L\(top.layer) H\(top.head), mean |ΔP| \(top.mapMeanAbsDiff)")
    }
}
