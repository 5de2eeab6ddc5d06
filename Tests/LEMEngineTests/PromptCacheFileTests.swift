import Foundation
import LEMCore
import LEMFormats
import TestSupport
import Testing

@testable import LEMEngine

/// Prompt-cache files in mlx-lm's format, against mlx-lm itself (`Scripts/fixtures_prompt_cache.py`):
/// the tiny Gemma 3 (sliding window 8, so its rotating caches have wrapped after the 20-token prompt).
@Suite struct PromptCacheFileTests {
    struct Expected: Decodable {
        var prompt: [Int]
        var continuation: [Int]
        var steps: Int
        var mlx_greedy_from_lem_cache: [Int]
        var mlx_last_logits: [String: [Float]]
    }

    static let directory = TestPaths.fixture("prompt_cache")
    static let modelURL = TestPaths.fixture("engine/gemma3_tiny-mlx4")
    static let exact = EngineOptions(q8Activations: false, prefixCacheBytes: 0)

    func expected() throws -> Expected {
        try JSONDecoder().decode(
            Expected.self, from: Data(contentsOf: Self.directory.appendingPathComponent("expected.json")))
    }

    func load(_ name: String = "engine/gemma3_tiny-mlx4") throws -> LoadedModel {
        try LoadedModel.load(ModelKey(model: TestPaths.fixture(name)), options: Self.exact, requireTokenizer: false)
    }

    /// Greedy ids of `request` on `model`.
    func greedy(_ model: LoadedModel, _ request: GenerationRequest) throws -> [Int] {
        var ids: [Int] = []
        var failure: (any Error)?
        model.generator.run(request) { event in
            if case .token(let id, _) = event { ids.append(id) }
            if case .failed(let error) = event { failure = error }
        }
        if let failure { throw failure }
        return ids
    }

    func request(_ ids: [Int], steps: Int, start: KVSnapshot? = nil) -> GenerationRequest {
        var request = GenerationRequest(promptIds: ids, sampling: .greedy, reusePrefix: false)
        request.maxTokens = steps
        request.startingState = start
        return request
    }

    /// The last position's logits after `continuation`, from `snapshot` restored.
    func logits(_ model: LoadedModel, from snapshot: KVSnapshot, continuation: [Int]) throws -> [Float] {
        let cache = snapshot.restore(length: snapshot.count, config: model.config)
        return try model.model.forward(tokens: continuation, cache: cache, logits: .last)
    }

    /// mlx-lm's file, continued by lem, is lem's own fresh prefill of prompt + continuation.
    @Test func mlxFileContinuesAsAFreshPrefill() throws {
        let e = try expected()
        let model = try load()
        let contents = try model.loadPromptCache(Self.directory.appendingPathComponent("mlx_cache.safetensors"))
        #expect(!contents.tokensKnown && contents.snapshot.count == e.prompt.count)
        #expect(contents.snapshot.layers.map(\.window) == [8, 8, 8, 0])
        let continued = try greedy(model, request(e.continuation, steps: e.steps, start: contents.snapshot))
        let fresh = try greedy(model, request(e.prompt + e.continuation, steps: e.steps))
        #expect(continued == fresh)
        let cache = model.model.makeCache()
        let freshLogits = try model.model.forward(tokens: e.prompt + e.continuation, cache: cache, logits: .last)
        let fromFile = try logits(model, from: contents.snapshot, continuation: e.continuation)
        #expect(checkClose(fromFile, freshLogits, tol: 1e-5, label: "lem on mlx-lm's cache vs fresh") == nil)
    }

    /// lem's file holds the same tensors and class/scalar metadata as mlx-lm's, and continuing it
    /// gives what mlx-lm gave continuing it (greedy ids; logits within the tiny model's mlx tolerance).
    @Test func lemFileIsWhatMLXContinued() throws {
        let e = try expected()
        let model = try load()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "lem-pc-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try model.savePromptCache(ids: e.prompt, to: url)
        let ours = try SafetensorsFile(url: url)
        let theirs = try SafetensorsFile(url: Self.directory.appendingPathComponent("mlx_cache.safetensors"))
        #expect(Set(ours.names) == Set(theirs.names))
        for name in theirs.names where !name.hasPrefix("3.") {  // mlx pads a KVCache to 256 positions
            #expect(ours.tensors[name]?.shape == theirs.tensors[name]?.shape, "\(name)")
        }
        let structural = { (m: [String: String]) in m.filter { !$0.key.hasPrefix("0.") } }
        #expect(structural(ours.metadata) == structural(theirs.metadata))
        let contents = try model.loadPromptCache(url)
        #expect(contents.tokensKnown && contents.snapshot.tokens == e.prompt)
        let continued = try greedy(model, request(e.continuation, steps: e.steps, start: contents.snapshot))
        #expect(continued == e.mlx_greedy_from_lem_cache)
        let mlx = try #require(e.mlx_last_logits["lem_cache"])
        let fromFile = try logits(model, from: contents.snapshot, continuation: e.continuation)
        #expect(checkClose(fromFile, mlx, tol: 1e-4, label: "lem vs mlx-lm on lem's cache") == nil)
    }

    /// Writing and reading back keeps every float and the tokens.
    @Test func roundTripIsExact() throws {
        let model = try load()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "lem-pc-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let ids = Array(3..<40)
        let written = try model.savePromptCache(ids: ids, to: url)
        let read = try model.loadPromptCache(url).snapshot
        #expect(read.tokens == ids)
        for (a, b) in zip(written.layers, read.layers) {
            #expect(a.window == b.window && a.first == b.first && a.keys == b.keys && a.values == b.values)
        }
    }

    /// f16 and bf16 files hold each key and value rounded once (read back as exactly that
    /// rounding), take about half the bytes of f32, and continue close to a fresh prefill; other
    /// types are refused before anything is written.
    @Test(arguments: [SafetensorsDType.f16, .bf16])
    func halfFilesRoundOnce(dtype: SafetensorsDType) throws {
        let model = try load()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lem-pc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let ids = Array(3..<40)
        let full = folder.appendingPathComponent("f32.safetensors")
        let half = folder.appendingPathComponent("half.safetensors")
        let written = try model.savePromptCache(ids: ids, to: full)
        try model.savePromptCache(ids: ids, to: half, dtype: dtype)
        let round: (Float) -> Float =
            dtype == .f16
            ? { HalfFloat.f16ToFloat(HalfFloat.floatToF16($0)) } : { HalfFloat.bf16ToFloat(HalfFloat.floatToBF16($0)) }
        let read = try model.loadPromptCache(half).snapshot
        #expect(read.tokens == ids)
        for (a, b) in zip(written.layers, read.layers) {
            #expect(a.keys.map(round) == b.keys && a.values.map(round) == b.values)
        }
        let size = { (url: URL) in (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0 }
        let ratio = Double(try size(half)) / Double(try size(full))
        #expect(ratio > 0.45 && ratio < 0.6, "\(dtype.rawValue) file is \(ratio) of f32")
        let continuation = [7, 11, 13]
        let fresh = try model.model.forward(tokens: ids + continuation, cache: model.model.makeCache(), logits: .last)
        let fromHalf = try logits(model, from: read, continuation: continuation)
        #expect(checkClose(fromHalf, fresh, tol: 0.05, label: "\(dtype.rawValue) cache vs fresh") == nil)
        #expect(Sampler.argmax(fromHalf) == Sampler.argmax(fresh))
        let refused = folder.appendingPathComponent("i8.safetensors")
        #expect(throws: FormatError.self) {
            try PromptCacheFile.write(written, config: model.config, identity: [:], dtype: .i8, to: refused)
        }
        #expect(!FileManager.default.fileExists(atPath: refused.path))
    }

    /// Another model's weights, or another shape, is refused with what differs.
    @Test func anotherModelIsRefused() throws {
        let model = try load()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "lem-pc-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try model.savePromptCache(ids: [1, 5, 9, 13], to: url)
        let other = try load("engine/gemma3_tiny-mlx8")
        #expect {
            try other.loadPromptCache(url)
        } throws: { error in
            "\(error)".contains("differs in model weights") && "\(error)".contains(url.lastPathComponent)
        }
        let llama = try load("engine/llama3_tiny")
        #expect {
            try llama.loadPromptCache(url)
        } throws: { error in
            let text = "\(error)"
            return text.contains(url.lastPathComponent) && (text.contains("layer") || text.contains("shape"))
        }
    }

    /// A seeded file serves every later prompt that starts with its tokens (exactly as a fresh
    /// prefill would answer), through a model's own prefix cache or a pool's seeding on load;
    /// a pool passes over a file made for another model; mlx-lm's file (no ids) is refused.
    @Test func seededFileServesPromptsStartingWithIt() throws {
        let withCache = EngineOptions(q8Activations: false)
        func loadCached(_ name: String) throws -> LoadedModel {
            try LoadedModel.load(ModelKey(model: TestPaths.fixture(name)), options: withCache, requireTokenizer: false)
        }
        let prefix = Array(1...18)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "lem-seed-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try load().savePromptCache(ids: prefix, to: url)
        let fresh = try greedy(load(), request(prefix + [40, 41, 42], steps: 5))

        let model = try loadCached("engine/gemma3_tiny-mlx4")
        #expect(try model.seedPrefixCache(from: url) == 18)
        var stats: GenerationStats?
        var ids: [Int] = []
        model.generator.run(
            GenerationRequest(promptIds: prefix + [40, 41, 42], sampling: SamplingSettings(maxTokens: 5))
        ) {
            if case .token(let id, _) = $0 { ids.append(id) }
            if case .finished(let s) = $0 { stats = s }
        }
        #expect(ids == fresh)
        #expect(stats?.reusedTokens == 18)

        // A pool seeds the models the file was made for and passes over the others.
        let pool = ModelPool(options: withCache)
        pool.promptCacheFiles = [url]
        let seeded = try pool.model(for: ModelKey(model: TestPaths.fixture("engine/gemma3_tiny-mlx4")))
        #expect(seeded.prefixCache?.statistics.entries == 1)
        let other = try pool.model(for: ModelKey(model: TestPaths.fixture("engine/gemma3_tiny-mlx8")))
        #expect(other === pool.cached(ModelKey(model: TestPaths.fixture("engine/gemma3_tiny-mlx8"))))
        #expect(pool.prefixCache?.statistics.entries == 1, "the mlx8 model got the mlx4 file's state")

        #expect {
            try model.seedPrefixCache(from: Self.directory.appendingPathComponent("mlx_cache.safetensors"))
        } throws: { "\($0)".contains("records no token ids") }
        let off = try load()  // prefix cache off
        #expect { try off.seedPrefixCache(from: url) } throws: { "\($0)".contains("prefix cache is off") }
    }

    /// A cache class mlx-lm has but this model's layer cannot use is named in the error.
    @Test func aWrongCacheClassIsNamed() throws {
        let model = try load()
        let source = try SafetensorsFile(url: Self.directory.appendingPathComponent("mlx_cache.safetensors"))
        var writer = SafetensorsWriter(metadata: source.metadata)
        writer.metadata["1.3"] = "QuantizedKVCache"
        for name in source.names {
            let tensor = source.tensors[name]!
            try writer.add(name, dtype: tensor.dtype, shape: tensor.shape, bytes: Array(tensor.rawBytes))
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "lem-pc-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try writer.write(to: url)
        #expect {
            try model.loadPromptCache(url)
        } throws: { error in
            "\(error)".contains("cache class 'QuantizedKVCache'")
        }
    }
}
