import Foundation
import LEMEngine
import LEMFormats
import TestSupport
import Testing

/// transformers + PEFT logits of a tiny model with an adapter (Scripts/fixtures_adapters.py).
struct AdapterReference: Decodable {
    let base: String
    let inputIds: [Int]
    let logits: [[Float]]
    enum CodingKeys: String, CodingKey {
        case base, logits
        case inputIds = "input_ids"
    }

    static func load(_ name: String) throws -> AdapterReference {
        try JSONDecoder().decode(
            AdapterReference.self, from: Data(contentsOf: TestPaths.fixture("adapters/\(name)/reference.json")))
    }
}

@Suite("LoRA/DoRA adapters at inference")
struct InferenceAdapterTests {
    /// PEFT cases (Scripts/fixtures_adapters.py): Gemma 3 LoRA and DoRA, Llama partial LoRA (3
    /// modules, 2 of 3 layers), Qwen2 DoRA (biases) with and without rsLoRA scaling; and
    /// adapters written by mlx_lm's own code with mlx_lm's logits (Scripts/fixtures_adapters_mlx.py).
    static let cases = [
        "gemma3_lora", "gemma3_dora", "llama3_lora_partial", "qwen2_dora", "qwen2_dora_rslora", "mlx_llama3_dora",
        "mlx_gemma3_lora"
    ]
    /// Cases with an mlx_lm-layout copy of the same adapter in `<case>/mlx`.
    static let mlxCases = ["gemma3_lora", "gemma3_dora", "llama3_lora_partial", "qwen2_dora"]

    func model(_ ref: AdapterReference, adapter folder: URL?, scale: Float = 1) throws -> any LanguageModel {
        try ModelFactory.load(TestPaths.fixture("engine/\(ref.base)"), adapterFolder: folder, adapterScale: scale)
    }

    @Test("adapter folders match transformers+PEFT's (or mlx_lm's) logits to 1e-4", arguments: cases)
    func matchesReference(name: String) throws {
        let ref = try AdapterReference.load(name)
        let lm = try model(ref, adapter: TestPaths.fixture("adapters/\(name)"))
        let logits = try lm.forward(tokens: ref.inputIds, cache: lm.makeCache(), logits: .all)
        print("\(name): \(compare(logits, ref.logits.flatMap { $0 }))")
        #expect(checkClose(logits, ref.logits.flatMap { $0 }, tol: 1e-4, label: "\(name) logits") == nil)
    }

    @Test("mlx_lm adapter folders match the same reference to 1e-4", arguments: mlxCases)
    func mlxMatchesReference(name: String) throws {
        let ref = try AdapterReference.load(name)
        let folder = TestPaths.fixture("adapters/\(name)/mlx")
        let adapter = try InferenceAdapter(folder: folder)
        #expect(adapter.format == .mlx)
        #expect(adapter.fineTuneType == (name.contains("dora") ? .dora : .lora))
        let lm = try model(ref, adapter: folder)
        let logits = try lm.forward(tokens: ref.inputIds, cache: lm.makeCache(), logits: .all)
        #expect(checkClose(logits, ref.logits.flatMap { $0 }, tol: 1e-4, label: "\(name) mlx logits") == nil)
    }

    @Test("unfused adapter == the same model with the delta merged into dense weights", arguments: cases)
    func unfusedEqualsMerged(name: String) throws {
        let ref = try AdapterReference.load(name)
        let files = try ModelFiles.open(TestPaths.fixture("engine/\(ref.base)"))
        let adapter = try InferenceAdapter(folder: TestPaths.fixture("adapters/\(name)"))
        for strength: Float in [1, 0.5] {
            let unfused = try ModelFactory.makeModel(files, adapter: adapter, adapterScale: strength)
            let merged = try ModelFactory.makeModel(
                config: files.config, tensors: adapter.fused(into: files.tensors, strength: strength), source: "merged")
            // KV-cached decode too: the term must also apply on the one-token path.
            let a = unfused.makeCache()
            let b = merged.makeCache()
            let prefix = Array(ref.inputIds.prefix(15))
            let x = try unfused.forward(tokens: prefix, cache: a, logits: .all)
            let y = try merged.forward(tokens: prefix, cache: b, logits: .all)
            #expect(checkClose(x, y, tol: 1e-4, label: "\(name) ×\(strength) prefill") == nil)
            for id in ref.inputIds.dropFirst(15) {
                let s = try unfused.forward(tokens: [id], cache: a, logits: .last)
                let t = try merged.forward(tokens: [id], cache: b, logits: .last)
                #expect(checkClose(s, t, tol: 1e-4, label: "\(name) ×\(strength) decode") == nil)
            }
        }
    }

    @Test func loraAtScaleZeroIsTheBaseModel() throws {
        let ref = try AdapterReference.load("gemma3_lora")
        let base = try ModelFactory.load(TestPaths.fixture("engine/\(ref.base)"))
        let off = try model(ref, adapter: TestPaths.fixture("adapters/gemma3_lora"), scale: 0)
        let x = try base.forward(tokens: ref.inputIds, cache: base.makeCache(), logits: .all)
        let y = try off.forward(tokens: ref.inputIds, cache: off.makeCache(), logits: .all)
        #expect(checkClose(y, x, tol: 1e-6, label: "scale 0") == nil)
        #expect(compare(x, ref.logits.flatMap { $0 }).maxAbs > 0.05)
    }

    /// Loading the engine fixture `model` with the adapter in `folder` fails with a format error
    /// whose message names each of `parts`.
    func expectLoadError(
        _ model: String, adapter folder: URL, naming parts: [String], sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        do {
            _ = try ModelFactory.load(TestPaths.fixture("engine/\(model)"), adapterFolder: folder)
            Issue.record(
                "expected an error loading \(folder.lastPathComponent) on \(model)", sourceLocation: sourceLocation)
        } catch let error as FormatError {
            for part in parts {
                #expect(error.message.contains(part), "\(error.message)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test func adapterForAnotherModelIsAnErrorNamingFileAndKey() throws {
        // A Gemma adapter on the Llama fixture: same hidden size, different MLP width.
        let folder = TestPaths.fixture("adapters/gemma3_lora")
        try expectLoadError(
            "llama3_tiny", adapter: folder, naming: ["adapter_model.safetensors", "model.layers.0.self_attn.q_proj"])
        // A module the model does not have (Qwen2 tiny has 2 layers), with shapes that would fit.
        try TemporaryFolder.with("lem-adapter") { dir in
            try Data(#"{"fine_tune_type": "lora", "lora_parameters": {"rank": 1, "scale": 2}}"#.utf8)
                .write(to: dir.appendingPathComponent("adapter_config.json"))
            var writer = SafetensorsWriter()
            for layer in [1, 5] {
                try writer.add(
                    "model.layers.\(layer).self_attn.q_proj.lora_a", shape: [64, 1],
                    floats: [Float](repeating: 0.1, count: 64))
                try writer.add(
                    "model.layers.\(layer).self_attn.q_proj.lora_b", shape: [1, 64],
                    floats: [Float](repeating: 0.1, count: 64))
            }
            try writer.write(to: dir.appendingPathComponent("adapters.safetensors"))
            try expectLoadError(
                "qwen2_tiny", adapter: dir, naming: ["adapters.safetensors", "model.layers.5.self_attn.q_proj"])
        }
    }

    @Test func badFoldersAreErrors() throws {
        try TemporaryFolder.with("lem-adapter") { dir in
            #expect(throws: FormatError.self) { try InferenceAdapter(folder: dir.appendingPathComponent("missing")) }
            try Data(#"{"fine_tune_type": "lora", "lora_parameters": {"rank": 1, "scale": 2}}"#.utf8)
                .write(to: dir.appendingPathComponent("adapter_config.json"))
            #expect(throws: FormatError.self) { try InferenceAdapter(folder: dir) }  // no weights file
            var writer = SafetensorsWriter()
            try writer.add("model.layers.0.self_attn.q_proj.lora_a", shape: [2, 1], floats: [1, 2])
            try writer.write(to: dir.appendingPathComponent("adapters.safetensors"))
            #expect(throws: FormatError.self) { try InferenceAdapter(folder: dir) }  // half a pair
            var foreign = SafetensorsWriter()
            try foreign.add("model.layers.0.self_attn.q_proj.weight", shape: [1], floats: [1])
            try foreign.write(to: dir.appendingPathComponent("adapters.safetensors"))
            #expect(throws: FormatError.self) { try InferenceAdapter(folder: dir) }
            var dora = SafetensorsWriter()
            try dora.add("model.layers.0.self_attn.q_proj.lora_a", shape: [2, 1], floats: [1, 2])
            try dora.add("model.layers.0.self_attn.q_proj.lora_b", shape: [1, 3], floats: [1, 2, 3])
            try dora.write(to: dir.appendingPathComponent("adapters.safetensors"))
            let ok = try InferenceAdapter(folder: dir)
            #expect(ok.modules["model.layers.0.self_attn.q_proj"]?.scale == 2)
            try Data(#"{"fine_tune_type": "dora", "lora_parameters": {"rank": 1, "scale": 2}}"#.utf8)
                .write(to: dir.appendingPathComponent("adapter_config.json"))
            #expect(throws: FormatError.self) { try InferenceAdapter(folder: dir) }  // DoRA without m
        }
    }

    @Test func lowRankKernelMatchesNaive() {
        var rng = Xoshiro256(seed: 5)
        let (t, i, r, o) = (7, 13, 3, 11)  // tokens, in, rank, out
        let x = randomFloats(t * i, rng: &rng)
        let a = randomFloats(i * r, rng: &rng)
        let b = randomFloats(r * o, rng: &rng)
        let start = randomFloats(t * o, rng: &rng)
        var fast = start
        var naive = start
        var hidden = [Float](repeating: 0, count: t * r)
        Kernels.lowRankAdd(
            x, a: a, b: b, scale: 1.5, tokens: t, inputs: i, rank: r, outputs: o, hidden: &hidden, out: &fast)
        Kernels.lowRankAddNaive(x, a: a, b: b, scale: 1.5, tokens: t, inputs: i, rank: r, outputs: o, out: &naive)
        #expect(checkClose(fast, naive, tol: 1e-5, label: "lowRankAdd") == nil)
        #expect(compare(fast, start).maxAbs > 0.1)
    }
}
