import Foundation
import LEMFormats
import TestSupport
import Testing

/// The two installed GGUF models opened through `ModelFiles`, checked against their published
/// configurations and against transformers' own GGUF loader (Scripts/fixtures_gguf_hf.py).
@Suite struct GGUFRealModelTests {
    struct Sidecar: Decodable {
        var file: String
        var rows: [String: [Int]]
    }

    static let sidecar: [String: Sidecar] = {
        let data = (try? Data(contentsOf: TestPaths.fixture("formats/gguf_hf.json"))) ?? Data("{}".utf8)
        return (try? JSONDecoder().decode([String: Sidecar].self, from: data)) ?? [:]
    }()

    @Test(.enabled(if: TestPaths.smolLM2 != nil, "SmolLM2 not installed: run Scripts/setup.sh"))
    func smolLM2Config() throws {
        let m = try ModelFiles.open(TestPaths.smolLM2!)
        let c = m.config
        #expect(c.modelType == "llama" && c.numHiddenLayers == 30 && c.hiddenSize == 576 && c.intermediateSize == 1536)
        #expect(c.numAttentionHeads == 9 && c.numKeyValueHeads == 3 && c.headDim == 64 && c.vocabSize == 49152)
        #expect(c.ropeTheta == 100_000 && c.tieWordEmbeddings && c.maxPositionEmbeddings == 8192)
        #expect(c.rmsNormEps == 1e-5 && c.hiddenActivation == "silu" && !c.attentionBias)
        #expect(c.bosTokenId == 1 && c.eosTokenIds == [2] && c.padTokenId == 2)
        #expect(m.tensors.count == 272 && m.tensors["lm_head.weight"] == nil)
        #expect(m.ggufMetadata["tokenizer.chat_template"]?.string?.contains("<|im_start|>") == true)
        #expect(m.gguf?.stringArray("tokenizer.ggml.merges")?.count == 48900)
        let q = try m.tensor("model.layers.0.self_attn.q_proj.weight")
        #expect(q.shape == [576, 576] && q.encoding == "q4_1")
        #expect(try m.tensor("model.embed_tokens.weight").shape == [49152, 576])
        #expect(try m.tensor("model.layers.29.mlp.down_proj.weight").shape == [576, 1536])
    }

    @Test(.enabled(if: TestPaths.gemma3 != nil, "Gemma 3 270M not installed: run Scripts/setup.sh"))
    func gemma3Config() throws {
        let m = try ModelFiles.open(TestPaths.gemma3!)
        let c = m.config
        #expect(
            c.modelType == "gemma3_text" && c.numHiddenLayers == 18 && c.hiddenSize == 640 && c.intermediateSize == 2048
        )
        #expect(c.numAttentionHeads == 4 && c.numKeyValueHeads == 1 && c.headDim == 256 && c.vocabSize == 262_144)
        #expect(c.slidingWindow == 512 && c.ropeTheta == 1_000_000 && c.ropeLocalTheta == 10_000)
        #expect(c.queryPreAttnScalar == 256 && c.tieWordEmbeddings && c.hiddenActivation == "gelu_pytorch_tanh")
        #expect(c.layerTypes.enumerated().allSatisfy { ($0.offset % 6 == 5) == ($0.element == .fullAttention) })
        #expect(c.bosTokenId == 2 && c.eosTokenIds == [1] && c.padTokenId == 0 && c.maxPositionEmbeddings == 32768)
        #expect(c.rmsNormEps == 1e-6)
        for name in [
            "input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm", "post_feedforward_layernorm",
            "self_attn.q_norm", "self_attn.k_norm"
        ] {
            #expect(m.tensors["model.layers.17.\(name).weight"] != nil, "missing \(name)")
        }
        #expect(try m.tensor("model.layers.0.mlp.down_proj.weight").encoding == "q6_K")
    }

    /// Rows through `ModelFiles` equal transformers' dequantized, unpermuted, unshifted tensors.
    @Test(
        .enabled(if: TestPaths.smolLM2 != nil && TestPaths.gemma3 != nil, "models not installed: run Scripts/setup.sh"),
        arguments: ["smollm2", "gemma3"])
    func tensorsMatchTransformers(_ key: String) throws {
        let model = try #require(key == "smollm2" ? TestPaths.smolLM2 : TestPaths.gemma3)
        let side = try #require(Self.sidecar[key], "fixture gguf_hf.json lacks \(key)")
        let reference = try SafetensorsFile(url: TestPaths.fixture("formats/gguf_hf_\(key).safetensors"))
        let m = try ModelFiles.open(model)
        #expect(side.rows.count >= 10)
        for (name, rows) in side.rows.sorted(by: { $0.key < $1.key }) {
            let t = try m.tensor(name)
            let ref = try reference.tensor(name)
            var row = [Float](repeating: .nan, count: t.columns)
            var want = row
            for (i, r) in rows.enumerated() {
                t.decodeRow(r, into: &row)
                ref.decodeRow(i, into: &want)
                if let msg = checkClose(row, want, tol: 0, label: "\(key) \(name) row \(r)") {
                    Issue.record(Comment(rawValue: msg))
                }
            }
        }
    }
}
