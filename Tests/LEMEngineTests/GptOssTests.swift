import Foundation
import LEMCore
import LEMEngine
import LEMFormats
import TestSupport
import Testing

/// Tiny random GPT-OSS models against transformers (Scripts/fixtures_gpt_oss.py): YaRN RoPE,
/// attention sinks, alternating sliding (window 8 < the 20-token prompt) / full layers, biased
/// top-k routing and clamped SwiGLU experts; bf16 weights, and MXFP4 experts in the released
/// checkpoint's `_blocks`/`_scales` form.
@Suite("GPT-OSS vs transformers")
struct GptOssTests {
    static let models = ["gpt_oss_tiny", "gpt_oss_tiny_top4", "gpt_oss_tiny_mxfp4"]
    static var present: Bool {
        models.allSatisfy {
            FileManager.default.fileExists(atPath: TestPaths.fixture("engine/\($0)/reference.json").path)
        }
    }

    @Test(
        "prompt logits, KV-cached steps and greedy ids match transformers to 1e-4 (f32 activations)",
        .enabled(if: present, "GPT-OSS fixtures absent: run Scripts/fixtures_gpt_oss.py"), arguments: models)
    func matchesTransformers(name: String) throws {
        let (dir, ref) = try TinyModelReference.load(name)
        let model = try ModelFactory.load(dir, options: EngineOptions(q8Activations: false))
        #expect(model.config.modelType == "gpt_oss" && model.config.experts != nil)
        let (prompt, steps) = try ref.check(model, tol: 1e-4, label: name)
        print("\(name): prompt logits max diff \(prompt), KV-cached steps \(steps)")
    }

    @Test(
        "greedy generation reproduces transformers' continuation",
        .enabled(if: present, "GPT-OSS fixtures absent: run Scripts/fixtures_gpt_oss.py"), arguments: models)
    func greedyContinuation(name: String) throws {
        let (dir, ref) = try TinyModelReference.load(name)
        let generator = Generator(model: try ModelFactory.load(dir))
        var ids: [Int] = []
        _ = generator.run(
            GenerationRequest(promptIds: ref.inputIds, sampling: SamplingSettings(maxTokens: ref.greedy.ids.count))
        ) {
            if case .token(let id, _) = $0 { ids.append(id) }
        }
        #expect(ids == ref.greedy.ids)
    }

    /// bf16 matrices are dotted in f32 whatever the option, so only the MXFP4 experts see the
    /// 8-bit activation rounding (≤ max|x|/254 per element): on this tiny model, whose experts are
    /// scaled to reach the SwiGLU clamp, logits move by ≤ 0.13 (measured), bounded here at 0.25;
    /// greedy ids are not compared (the fixture's closest top-2 gap is 8.5e-3).
    @Test(
        "8-bit activations (the executable's default): bf16 within 1e-4, MXFP4 experts within 0.25",
        .enabled(if: present, "GPT-OSS fixtures absent: run Scripts/fixtures_gpt_oss.py"), arguments: models)
    func quantizedActivations(name: String) throws {
        let (dir, ref) = try TinyModelReference.load(name)
        let model = try ModelFactory.load(dir, options: EngineOptions(q8Activations: true))
        guard name.hasSuffix("mxfp4") else {
            let (prompt, steps) = try ref.check(model, tol: 1e-4, label: "\(name) q8")
            print("\(name) with 8-bit activations: prompt logits max diff \(prompt), KV-cached steps \(steps)")
            return
        }
        let logits = try model.forward(tokens: ref.inputIds, cache: model.makeCache(), logits: .all)
        let prompt = compare(logits, ref.logits.flatMap { $0 }).maxAbs
        let cache = model.makeCache()
        var step = try model.forward(tokens: ref.inputIds, cache: cache, logits: .last)
        var steps = 0.0
        for (k, expected) in ref.greedy.stepLogits.enumerated() {
            steps = max(steps, compare(step, expected).maxAbs)
            step = try model.forward(tokens: [ref.greedy.ids[k]], cache: cache, logits: .last)
        }
        print("\(name) with 8-bit activations: prompt logits max diff \(prompt), KV-cached steps \(steps)")
        #expect(prompt <= 0.25 && steps <= 0.25)
    }

    @Test(
        "a batched decode step equals each sequence's own step",
        .enabled(if: present, "GPT-OSS fixtures absent: run Scripts/fixtures_gpt_oss.py"))
    func batchedDecode() throws {
        let (dir, ref) = try TinyModelReference.load("gpt_oss_tiny")
        let model = try ModelFactory.load(dir)
        let prompts = [Array(ref.inputIds.prefix(12)), ref.inputIds, Array(ref.inputIds.prefix(3))]
        let single = prompts.map { _ in model.makeCache() }
        let batched = prompts.map { _ in model.makeCache() }
        var next: [Int] = []
        for (i, p) in prompts.enumerated() {
            _ = try model.forward(tokens: p, cache: single[i], logits: .last)
            let last = try model.forward(tokens: p, cache: batched[i], logits: .last)
            next.append(Sampler.argmax(last))
        }
        let workspace = Workspace()
        for _ in 0..<4 {
            let rows = Array(try model.decodeInPlace(tokens: next, caches: batched, workspace: workspace))
            let v = model.config.vocabSize
            var following: [Int] = []
            for (i, id) in next.enumerated() {
                let own = try model.forward(tokens: [id], cache: single[i], logits: .last)
                #expect(Array(rows[i * v..<(i + 1) * v]) == own, "row \(i)")
                following.append(Sampler.argmax(own))
            }
            next = following
        }
    }

    @Test(
        "config: experts, YaRN and sinks read from config.json; defaults per GptOssConfig",
        .enabled(if: present, "GPT-OSS fixtures absent: run Scripts/fixtures_gpt_oss.py"))
    func config() throws {
        let config = try ModelConfig.load(directory: TestPaths.fixture("engine/gpt_oss_tiny"))
        #expect(config.modelType == "gpt_oss")
        #expect(config.experts == ModelConfig.Experts(count: 8, perToken: 2, swigluAlpha: 1.702, swigluLimit: 7))
        #expect(config.slidingWindow == 8)
        #expect(config.layerTypes == [.slidingAttention, .fullAttention, .slidingAttention, .fullAttention])
        #expect(config.attentionBias)
        guard case .yarn(let factor, let fast, let slow, let original, let truncate, let attention) = config.ropeScaling
        else {
            Issue.record("expected YaRN, got \(config.ropeScaling)")
            return
        }
        #expect(factor == 32 && fast == 32 && slow == 1 && original == 4096 && !truncate)
        #expect(abs(attention - (0.1 * log(32.0) + 1)) < 1e-12)
        // A short config: everything else from GptOssConfig's defaults.
        let short = Data(
            (#"{"model_type": "gpt_oss", "num_hidden_layers": 2, "vocab_size": 64, "hidden_size": 64, "head_dim": 16,"#
                + #" "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 32}"#).utf8)
        let d = try ModelConfig(configJSON: short, file: URL(fileURLWithPath: "/x/config.json"))
        #expect(d.experts == ModelConfig.Experts(count: 128, perToken: 4, swigluAlpha: 1.702, swigluLimit: 7))
        #expect(d.ropeTheta == 150_000 && d.slidingWindow == 128 && d.rmsNormEps == 1e-5)
        #expect(d.layerTypes == [.slidingAttention, .fullAttention])
        #expect(
            d.ropeScaling
                == .yarn(
                    factor: 32, betaFast: 32, betaSlow: 1, originalMaxPositions: 4096, truncate: false,
                    attentionFactor: 0.1 * log(32.0) + 1))
    }

    @Test(
        "MXFP4 experts stay MXFP4 (ggml blocks, 17 bytes per 32 weights) and take the C kernel",
        .enabled(if: present, "GPT-OSS fixtures absent: run Scripts/fixtures_gpt_oss.py"))
    func mxfp4StaysEncoded() throws {
        let files = try ModelFiles.open(TestPaths.fixture("engine/gpt_oss_tiny_mxfp4"))
        for (name, shape) in [("gate_proj", [8, 32, 64]), ("up_proj", [8, 32, 64]), ("down_proj", [8, 64, 32])] {
            let t = try files.tensor("model.layers.1.mlp.experts.\(name).weight")
            #expect(t.encoding == "mxfp4" && t.shape == shape)
            #expect(t.storedBytes == shape.reduce(1, *) / 32 * 17)
            let expert = RowSliceTensor(t, first: 3 * shape[1], count: shape[1], name: "expert 3")
            #expect(MatrixKernel(expert)?.quantizesActivation == true)
        }
        #expect(files.tensors.keys.allSatisfy { !$0.hasSuffix("_blocks") && !$0.hasSuffix("_scales") })
    }

    @Test(
        "attention capture includes the sinks: probabilities equal transformers' eager weights to 1e-4",
        .enabled(if: present, "GPT-OSS fixtures absent: run Scripts/fixtures_gpt_oss.py"))
    func attentionCapture() throws {
        struct Reference: Decodable {
            let inputIds: [Int]
            let attentions: [[[Float]]]  // [L][H·T][T]
            enum CodingKeys: String, CodingKey {
                case inputIds = "input_ids"
                case attentions
            }
        }
        let data = try Data(contentsOf: TestPaths.fixture("engine/gpt_oss_tiny/attentions.json"))
        let ref = try JSONDecoder().decode(Reference.self, from: data)
        let model = try ModelFactory.load(TestPaths.fixture("engine/gpt_oss_tiny"))
        let (capture, _) = try AttentionRunner.capture(model: model, ids: ref.inputIds)
        let t = ref.inputIds.count
        for l in 0..<capture.layers {
            for h in 0..<capture.heads {
                let expected = Array(ref.attentions[l][h * t..<(h + 1) * t].joined())
                // Layer 0 sees the embeddings only (1e-6); the last inherits the residual stream's
                // float differences (1.2e-5 measured), as the logits do (4.2e-5).
                #expect(
                    checkClose(
                        capture.map(layer: l, head: h), expected, tol: l == 0 ? 1e-6 : 1e-4, label: "L\(l) H\(h)")
                        == nil)
            }
        }
    }

    @Test(
        "llama.cpp's GGUF conversion (gpt-oss metadata, MXFP4 experts as ggml type 39) matches transformers to 1e-4",
        .enabled(if: present, "GPT-OSS fixtures absent: run Scripts/fixtures_gpt_oss.py"))
    func gguf() throws {
        let (dir, ref) = try TinyModelReference.load("gpt_oss_tiny_mxfp4")
        let files = try ModelFiles.open(dir.appendingPathComponent("model-f32.gguf"))
        #expect(files.config.experts == ModelConfig.Experts(count: 8, perToken: 2, swigluAlpha: 1.702, swigluLimit: 7))
        #expect(files.config.layerTypes == [.slidingAttention, .fullAttention] && files.config.slidingWindow == 8)
        #expect(try files.config.ropeScaling == ModelConfig.load(directory: dir).ropeScaling)
        #expect(try files.tensor("model.layers.0.mlp.experts.up_proj.weight").encoding == "mxfp4")
        let model = try ModelFactory.makeModel(files, options: EngineOptions(q8Activations: false))
        let (prompt, steps) = try ref.check(model, tol: 1e-4, label: "gguf")
        print("gpt_oss_tiny_mxfp4 GGUF: prompt logits max diff \(prompt), KV-cached steps \(steps)")
        // The same weights as the safetensors folder: the same logits.
        let folder = try ModelFactory.load(dir, options: EngineOptions(q8Activations: false))
        let a = try model.forward(tokens: ref.inputIds, cache: model.makeCache(), logits: .all)
        let b = try folder.forward(tokens: ref.inputIds, cache: folder.makeCache(), logits: .all)
        #expect(compare(a, b).maxAbs <= 1e-5)
    }

    @Test(
        "bytes read per decoded token count a token's k of E experts",
        .enabled(if: present, "GPT-OSS fixtures absent: run Scripts/fixtures_gpt_oss.py"))
    func decodeBytes() throws {
        let files = try ModelFiles.open(TestPaths.fixture("engine/gpt_oss_tiny_mxfp4"))
        var experts = 0
        var others = 0
        for (name, t) in files.tensors where name != "model.embed_tokens.weight" {
            if name.contains(".mlp.experts.") { experts += t.storedBytes } else { others += t.storedBytes }
        }
        let row = files.tensors["model.embed_tokens.weight"]!.storedBytes / files.config.vocabSize
        let read = SpeedReport.decodeBytesPerToken(tensors: files.tensors, config: files.config)
        #expect(read == others + row + experts * 2 / 8)
    }

    @Test(
        "a missing sink or expert tensor is an error naming it",
        .enabled(if: present, "GPT-OSS fixtures absent: run Scripts/fixtures_gpt_oss.py"))
    func missingTensors() throws {
        let files = try ModelFiles.open(TestPaths.fixture("engine/gpt_oss_tiny"))
        for name in ["model.layers.1.self_attn.sinks", "model.layers.0.mlp.experts.up_proj.weight"] {
            var tensors = files.tensors
            tensors[name] = nil
            let message = errorMessage {
                try ModelFactory.makeModel(config: files.config, tensors: tensors, source: "tiny")
            }
            #expect(message.contains(name), "\(message)")
        }
    }
}
