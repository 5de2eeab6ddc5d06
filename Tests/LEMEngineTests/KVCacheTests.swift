import LEMEngine
import LEMFormats
import TestSupport
import Testing

@Suite("KVCache")
struct KVCacheTests {
    static let cases: [(String, Bool)] = [
        ("llama", false), ("llama", true), ("qwen2", false), ("gemma3_text", true), ("gemma3_text", false)
    ]

    @Test("token-by-token and chunked decoding give the full forward's logits", arguments: cases)
    func incrementalEqualsFull(type: String, sliding: Bool) throws {
        let model = try RandomModels.model(type, sliding: sliding)
        let v = model.config.vocabSize
        let tokens = [3, 17, 5, 39, 0, 22, 8, 8, 13, 30, 1, 2]
        let full = try model.forward(tokens: tokens, cache: model.makeCache())

        let stepCache = model.makeCache()
        for (i, id) in tokens.enumerated() {
            let step = try model.forward(tokens: [id], cache: stepCache)
            #expect(checkClose(step, full[(i * v)..<(i * v + v)], tol: 1e-5, label: "\(type) step \(i)") == nil)
        }
        #expect(stepCache.count == tokens.count)

        // Uneven chunks, some longer than the window, exercising ring growth.
        let chunkCache = model.makeCache()
        var start = 0
        for size in [5, 1, 2, 4] {
            let last = try model.forward(tokens: Array(tokens[start..<start + size]), cache: chunkCache, logits: .last)
            let row = start + size - 1
            #expect(
                checkClose(last, full[(row * v)..<(row * v + v)], tol: 1e-5, label: "\(type) chunk ending \(row)")
                    == nil)
            start += size
        }
    }

    @Test("a sliding window changes the logits once the sequence outgrows it")
    func windowMatters() throws {
        let config = RandomModels.config("llama", sliding: true)
        let tensors = RandomModels.tensors(for: config, seed: 7)
        var unwindowed = config
        unwindowed.slidingWindow = nil
        let a = try ModelFactory.makeModel(config: config, tensors: tensors, source: "a")
        let b = try ModelFactory.makeModel(config: unwindowed, tensors: tensors, source: "b")
        let tokens = [3, 17, 5, 39, 0, 22, 8]
        let la = try a.forward(tokens: tokens, cache: a.makeCache())
        let lb = try b.forward(tokens: tokens, cache: b.makeCache())
        let v = config.vocabSize
        // Within the window (first 4 positions) identical, beyond it different.
        #expect(checkClose(la[0..<4 * v], lb[0..<4 * v], tol: 1e-6, label: "inside window") == nil)
        #expect(compare(la[(6 * v)...], lb[(6 * v)...]).maxAbs > 1e-4)
    }

    @Test("bad input throws a named error instead of trapping")
    func badInput() throws {
        let model = try RandomModels.model("llama", sliding: false)
        #expect(throws: ModelError.tokenOutOfRange(id: 40, index: 1, vocabSize: 40)) {
            try model.forward(tokens: [1, 40], cache: model.makeCache())
        }
        #expect(throws: ModelError.emptyInput) { try model.forward(tokens: [], cache: model.makeCache()) }
        #expect(throws: ModelError.contextFull(needed: 65, limit: 64)) {
            try model.forward(tokens: Array(repeating: 1, count: 65), cache: model.makeCache())
        }
        var config = RandomModels.config("falcon", sliding: false)
        #expect(throws: ModelError.unsupportedArchitecture("falcon", source: "x")) {
            try ModelFactory.makeModel(config: config, tensors: [:], source: "x")
        }
        config.modelType = "llama"
        var tensors = RandomModels.tensors(for: config, seed: 1)
        tensors["model.layers.1.mlp.up_proj.weight"] = nil
        #expect(throws: ModelError.missingTensor("model.layers.1.mlp.up_proj.weight", source: "y")) {
            try ModelFactory.makeModel(config: config, tensors: tensors, source: "y")
        }
    }
}
