import Foundation
import LEMEngine
import LEMFormats
import TestSupport
import Testing

@testable import LEMTrainer

/// `lem fuse`: the fused model's logits equal the base + unfused adapter's, for every base format.
@Suite struct ModelFuserTests {
    func temporaryFolder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("lem-fuse-\(UUID().uuidString)")
    }

    /// The reference input ids of the tiny engine fixtures.
    let ids = [1, 122, 59, 53, 61, 152, 138, 192, 268, 183, 265, 51, 95, 103, 88, 239, 191, 103, 12, 54]

    func logits(_ model: any LanguageModel) throws -> [Float] {
        try model.forward(tokens: ids, cache: model.makeCache(), logits: .all)
    }

    /// Fuses, then compares the fused folder's logits with the unfused adapted base's.
    @discardableResult
    func check(base: String, adapter: String, dequantize: Bool = false, tol: Double = 1e-4, shardBytes: Int = 2 << 30)
        throws -> URL
    {
        let out = temporaryFolder().appendingPathComponent("fused")
        let baseURL = TestPaths.fixture(base)
        let adapterURL = TestPaths.fixture(adapter)
        let result = try ModelFuser.fuse(
            model: baseURL, adapterFolder: adapterURL, output: out, dequantize: dequantize,
            shardBytes: shardBytes)
        #expect(result.fusedModules > 0)
        let unfused = try ModelFactory.load(baseURL, adapterFolder: adapterURL)
        let fused = try ModelFactory.load(out)
        let c = compare(try logits(fused), try logits(unfused))
        print("fuse \(base) + \(adapter)\(dequantize ? " --dequantize" : ""): \(result.weightFormat), \(c)")
        #expect(checkClose(try logits(fused), try logits(unfused), tol: tol, label: "\(base) + \(adapter)") == nil)
        // Nothing left behind but the model folder.
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.deletingLastPathComponent().path) == ["fused"])
        return out
    }

    @Test(
        "f32 safetensors bases: fused == base + adapter to 1e-4",
        arguments: [
            ("engine/gemma3_tiny", "adapters/gemma3_lora"), ("engine/gemma3_tiny", "adapters/gemma3_dora/mlx"),
            ("engine/qwen2_tiny", "adapters/qwen2_dora"), ("engine/llama3_tiny", "adapters/llama3_lora_partial/mlx")
        ])
    func safetensorsBase(base: String, adapter: String) throws {
        let out = try check(base: base, adapter: adapter)
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        #expect(
            names.contains("config.json") && names.contains("model.safetensors") && names.contains("tokenizer.json"))
        // Untouched tensors are copied exactly.
        let before = try ModelFiles.open(TestPaths.fixture(base))
        let after = try ModelFiles.open(out)
        let norm = "model.norm.weight"
        #expect(try after.tensor(norm).decodeAll() == before.tensor(norm).decodeAll())
    }

    @Test func shardedOutputLoads() throws {
        let out = try check(base: "engine/gemma3_tiny", adapter: "adapters/gemma3_lora", shardBytes: 200_000)
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("model.safetensors.index.json").path))
    }

    @Test func mlxQuantizedBaseDequantized() throws {
        let out = try check(base: "engine/gemma3_tiny-mlx4", adapter: "adapters/gemma3_lora", dequantize: true)
        let files = try ModelFiles.open(out)
        #expect(files.format == .safetensors && files.config.quantization == nil)
    }

    @Test func mlxQuantizedBaseRequantized() throws {
        let base = TestPaths.fixture("engine/gemma3_tiny-mlx4")
        let adapterURL = TestPaths.fixture("adapters/gemma3_lora")
        let out = temporaryFolder().appendingPathComponent("fused")
        let result = try ModelFuser.fuse(model: base, adapterFolder: adapterURL, output: out)
        #expect(result.weightFormat.hasPrefix("mlx"))
        let files = try ModelFiles.open(out)
        let original = try ModelFiles.open(base)
        #expect(files.config.quantization == original.config.quantization)
        let adapter = try InferenceAdapter(folder: adapterURL)
        let q = try #require(files.tensors["model.layers.0.self_attn.q_proj.weight"] as? MLXQuantizedTensor)
        // Each re-quantized weight is within half a quantization step of the exact fused value.
        let exact = adapter.modules["model.layers.0.self_attn.q_proj"]!.fusedWeight(
            base: original.tensors["model.layers.0.self_attn.q_proj.weight"]!)
        let stored = q.decodeAll()
        let scales = q.scales.decodeAll()
        let groups = q.columns / q.groupSize
        var worst: Float = 0
        for i in 0..<exact.count {
            let step = scales[(i / q.columns) * groups + (i % q.columns) / q.groupSize]
            worst = max(worst, abs(exact[i] - stored[i]) / step)
        }
        #expect(worst <= 0.5 + 1e-3, "worst error \(worst) quantization steps")
        // Untouched layers keep their bytes.
        let embed = "model.embed_tokens.weight"
        #expect(try files.tensor(embed).decodeAll() == original.tensor(embed).decodeAll())
    }

    @Test func ggufBase() throws {
        let out = try check(base: "engine/llama3_tiny/model-f32.gguf", adapter: "adapters/llama3_lora_partial")
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("tokenizer.gguf").path))
        let original = try Tokenizer.load(from: TestPaths.fixture("engine/llama3_tiny/model-f32.gguf"))
        let copied = try Tokenizer.load(from: out)
        let text = "Hello, fused world! 123"
        #expect(try copied.encode(text) == original.encode(text))
        let config = try ModelConfig.load(directory: out)
        #expect(config == (try ModelFiles.open(TestPaths.fixture("engine/llama3_tiny/model-f32.gguf")).config))
    }

    @Test func refusesAnExistingFolderAndAForeignAdapter() throws {
        let out = temporaryFolder()
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        #expect(throws: FormatError.self) {
            try ModelFuser.fuse(
                model: TestPaths.fixture("engine/gemma3_tiny"),
                adapterFolder: TestPaths.fixture("adapters/gemma3_lora"), output: out)
        }
        #expect(throws: FormatError.self) {
            try ModelFuser.fuse(
                model: TestPaths.fixture("engine/llama3_tiny"),
                adapterFolder: TestPaths.fixture("adapters/gemma3_lora"),
                output: out.appendingPathComponent("x"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).isEmpty)
    }

    @Test func quantizerPacksLikeTheLoaderReads() throws {
        for bits in [2, 3, 4, 5, 6, 8] {
            let rows = 3
            let columns = 64
            let group = 32
            var random = SeededGenerator(seed: UInt64(bits))
            let w = (0..<rows * columns).map { _ in Float.random(in: -1...1, using: &random) }
            let quantizer = MLXAffineQuantizer(bits: bits, groupSize: group, scaleType: .f32)
            let (packed, scales, biases) = quantizer.quantize(w, rows: rows, columns: columns)
            let dir = temporaryFolder()
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            var writer = SafetensorsWriter()
            try writer.add("w.weight", dtype: .u32, shape: [rows, columns * bits / 32], bytes: packed)
            try writer.add("w.scales", shape: [rows, columns / group], floats: scales)
            try writer.add("w.biases", shape: [rows, columns / group], floats: biases)
            let url = dir.appendingPathComponent("q.safetensors")
            try writer.write(to: url)
            let file = try SafetensorsFile(url: url)
            let tensor = try MLXQuantizedTensor(
                name: "w.weight", packed: file.tensor("w.weight"), scales: file.tensor("w.scales"),
                biases: file.tensor("w.biases"), bits: bits, groupSize: group)
            let back = tensor.decodeAll()
            for i in 0..<w.count {
                let step = scales[(i / columns) * 2 + (i % columns) / group]
                #expect(abs(back[i] - w[i]) <= step / 2 + 1e-5, "bits \(bits) element \(i)")
            }
        }
    }
}
