import Foundation
import LEMCore
import LEMEngine
import LEMFormats
import TestSupport
import Testing

/// transformers' outputs for a tiny random model (Scripts/fixtures_tiny_models.py).
struct TinyModelReference: Decodable {
    struct Greedy: Decodable {
        let ids: [Int]
        /// step_logits[0]: the prompt's last position; step_logits[i]: after feeding ids[i - 1].
        let stepLogits: [[Float]]
        enum CodingKeys: String, CodingKey {
            case ids
            case stepLogits = "step_logits"
        }
    }
    let inputIds: [Int]
    let logits: [[Float]]
    let greedy: Greedy
    enum CodingKeys: String, CodingKey {
        case inputIds = "input_ids"
        case logits, greedy
    }

    static func load(_ name: String) throws -> (URL, TinyModelReference) {
        let dir = TestPaths.fixture("engine/\(name)")
        return (dir, try load(file: "engine/\(name)/reference.json"))
    }

    static func load(file: String) throws -> TinyModelReference {
        let data = try Data(contentsOf: TestPaths.fixture(file))
        return try JSONDecoder().decode(TinyModelReference.self, from: data)
    }

    /// Checks a model against this reference: all-position prompt logits, every KV-cached greedy
    /// step, and the greedy ids; returns the worst differences (prompt, steps).
    func check(_ model: any LanguageModel, tol: Double, label: String) throws -> (prompt: Double, steps: Double) {
        let logits = try model.forward(tokens: inputIds, cache: model.makeCache(), logits: .all)
        let flat = self.logits.flatMap { $0 }
        #expect(checkClose(logits, flat, tol: tol, label: "\(label) prompt logits") == nil)
        let cache = model.makeCache()
        var step = try model.forward(tokens: inputIds, cache: cache, logits: .last)
        var worst = 0.0
        for (k, expected) in greedy.stepLogits.enumerated() {
            worst = max(worst, compare(step, expected).maxAbs)
            #expect(checkClose(step, expected, tol: tol, label: "\(label) step \(k)") == nil)
            #expect(Sampler.argmax(step) == greedy.ids[k], "\(label) greedy id \(k)")
            step = try model.forward(tokens: [greedy.ids[k]], cache: cache, logits: .last)
        }
        return (compare(logits, flat).maxAbs, worst)
    }
}

@Suite("Tiny models vs transformers")
struct TinyModelReferenceTests {
    /// Gemma 3 (sliding + full, local/global RoPE), with linear RoPE scaling and final soft-capping,
    /// the 5 + 1 pattern llama.cpp can represent, Llama 3 (llama3 RoPE scaling), Qwen2 (biases).
    static let models = ["gemma3_tiny", "gemma3_tiny_scaled", "gemma3_tiny_lcpp", "llama3_tiny", "qwen2_tiny"]

    @Test("all-position logits of the prompt match transformers to 1e-4", arguments: models)
    func promptLogits(name: String) throws {
        let (dir, ref) = try TinyModelReference.load(name)
        let model = try ModelFactory.load(dir)
        let logits = try model.forward(tokens: ref.inputIds, cache: model.makeCache(), logits: .all)
        let c = compare(logits, ref.logits.flatMap { $0 })
        print("\(name): prompt logits \(c)")
        #expect(checkClose(logits, ref.logits.flatMap { $0 }, tol: 1e-4, label: "\(name) prompt logits") == nil)
    }

    @Test("KV-cached decode steps match transformers' incremental logits to 1e-4", arguments: models)
    func incrementalSteps(name: String) throws {
        let (dir, ref) = try TinyModelReference.load(name)
        let model = try ModelFactory.load(dir)
        let cache = model.makeCache()
        var logits = try model.forward(tokens: ref.inputIds, cache: cache, logits: .last)
        var worst = 0.0
        for (step, expected) in ref.greedy.stepLogits.enumerated() {
            worst = max(worst, compare(logits, expected).maxAbs)
            #expect(checkClose(logits, expected, tol: 1e-4, label: "\(name) step \(step)") == nil)
            #expect(Sampler.argmax(logits) == ref.greedy.ids[step])
            logits = try model.forward(tokens: [ref.greedy.ids[step]], cache: cache, logits: .last)
        }
        print("\(name): worst step logits diff \(worst)")
    }

    @Test("greedy generation reproduces transformers' continuation", arguments: models)
    func greedyContinuation(name: String) throws {
        let (dir, ref) = try TinyModelReference.load(name)
        let generator = Generator(model: try ModelFactory.load(dir))
        var ids: [Int] = []
        let stats = generator.run(
            GenerationRequest(promptIds: ref.inputIds, sampling: SamplingSettings(maxTokens: ref.greedy.ids.count))
        ) {
            if case .token(let id, _) = $0 { ids.append(id) }
        }
        #expect(ids == ref.greedy.ids)
        #expect(stats?.stopReason == .maxTokens)
    }
}
