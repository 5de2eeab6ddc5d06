import Foundation
import LEMFormats
import TestSupport
import Testing

@Suite struct GGUFFileTests {
    /// The HF rows of q_proj (8 rows of 8) and how llama.cpp's converter stores them:
    /// reshape (heads, 2, hd/2, in), swap axes 1 and 2 (convert_hf_to_gguf LlamaModel.permute).
    static func permuted(_ rows: [[Float]], heads: Int) -> [[Float]] {
        let hd = rows.count / heads
        var out = rows
        for h in 0..<heads {
            for t in 0..<2 {
                for j in 0..<hd / 2 { out[h * hd + j * 2 + t] = rows[h * hd + t * hd / 2 + j] }
            }
        }
        return out
    }

    @Test func readsMetadataConfigAndUndoesThePermutation() throws {
        let dir = TemporaryDirectory()
        var b = GGUFBuilder.tinyLlama()
        let q = (0..<8).map { r in (0..<8).map { Float(r * 10 + $0) } }
        let k = (0..<4).map { r in (0..<8).map { Float(100 + r * 10 + $0) } }
        b.f32Tensor("token_embd.weight", ne: [8, 3], (0..<24).map(Float.init))
        b.f32Tensor("blk.0.attn_q.weight", ne: [8, 8], Self.permuted(q, heads: 2).flatMap { $0 })
        b.f32Tensor("blk.0.attn_k.weight", ne: [8, 4], Self.permuted(k, heads: 1).flatMap { $0 })
        b.f32Tensor("blk.0.ffn_norm.weight", ne: [8], [Float](repeating: 2, count: 8))
        b.f32Tensor("output_norm.weight", ne: [8], [Float](repeating: 1, count: 8))
        let url = dir.write("tiny.gguf", b.bytes())

        let g = try GGUFFile(url: url)
        #expect(g.version == 3 && g.alignment == 32 && g.architecture == "llama")
        #expect(g.stringArray("tokenizer.ggml.tokens") == ["<s>", "</s>", "hi"])
        #expect(g.floatArray("tokenizer.ggml.scores") == [0, -1, -2.5])
        #expect(g.bool("tokenizer.ggml.add_bos_token") == true && g.int("test.signed") == -5)
        #expect(g.metadata["test.nested"]?.array?.map { $0.intArray ?? [] } == [[1, 2], [3]])
        #expect(g.metadataKeys.first == "general.architecture")

        let m = try ModelFiles.open(url)
        #expect(m.format == .gguf && m.ggufMetadata["tokenizer.ggml.model"]?.string == "gpt2")
        let c = m.config
        #expect(c.modelType == "llama" && c.hiddenSize == 8 && c.numAttentionHeads == 2 && c.numKeyValueHeads == 1)
        #expect(c.headDim == 4 && c.vocabSize == 3 && c.ropeTheta == 100_000 && c.tieWordEmbeddings)
        #expect(c.bosTokenId == 0 && c.eosTokenIds == [1] && c.maxPositionEmbeddings == 64)
        #expect(abs(c.rmsNormEps - 1e-5) < 1e-12)

        let qt = try m.tensor("model.layers.0.self_attn.q_proj.weight")
        #expect(qt.shape == [8, 8] && qt.encoding == "f32")
        #expect(qt.decodeAll() == q.flatMap { $0 })
        #expect(try m.tensor("model.layers.0.self_attn.k_proj.weight").decodeAll() == k.flatMap { $0 })
        #expect(
            try m.tensor("model.layers.0.post_attention_layernorm.weight").decodeAll()
                == [Float](repeating: 2, count: 8))
        let e = try m.tensor("model.embed_tokens.weight")
        #expect(e.shape == [3, 8] && e.decodeAll() == (0..<24).map(Float.init))
        #expect(m.tensors["lm_head.weight"] == nil)
    }

    /// A Gemma 3 file's builder: `blocks` blocks, 8 channels, a 16-wide MLP, 2 heads, then the
    /// `extra` metadata and a two-token vocabulary.
    static func gemma3(blocks: UInt32, _ extra: [(String, GGUFBuilder.Value)]) -> GGUFBuilder {
        var b = GGUFBuilder()
        b.metadata =
            [
                ("general.architecture", .string("gemma3")), ("gemma3.block_count", .u32(blocks)),
                ("gemma3.embedding_length", .u32(8)), ("gemma3.feed_forward_length", .u32(16)),
                ("gemma3.attention.head_count", .u32(2))
            ] + extra + [("tokenizer.ggml.tokens", .strings(["a", "b"]))]
        return b
    }

    @Test func gemmaNormsAreShiftedBack() throws {
        let dir = TemporaryDirectory()
        var b = Self.gemma3(
            blocks: 6,
            [
                ("gemma3.attention.key_length", .u32(8)), ("gemma3.attention.sliding_window", .u32(4)),
                ("gemma3.rope.freq_base", .f32(1e6))
            ])
        b.f32Tensor("blk.0.attn_q_norm.weight", ne: [4], [1, 1.5, 0.25, 2])
        b.f32Tensor("blk.0.ffn_norm.weight", ne: [2], [3, 1])
        b.f32Tensor("blk.0.attn_q.weight", ne: [2, 2], [1, 2, 3, 4])
        b.f32Tensor("output.weight", ne: [2, 2], [0, 0, 0, 0])
        let m = try ModelFiles.open(dir.write("g.gguf", b.bytes()))
        #expect(try m.tensor("model.layers.0.self_attn.q_norm.weight").decodeAll() == [0, 0.5, -0.75, 1])
        #expect(try m.tensor("model.layers.0.pre_feedforward_layernorm.weight").decodeAll() == [2, 0])
        #expect(try m.tensor("model.layers.0.self_attn.q_proj.weight").decodeAll() == [1, 2, 3, 4])
        let c = m.config
        #expect(c.modelType == "gemma3_text" && c.headDim == 8 && c.queryPreAttnScalar == 8 && !c.tieWordEmbeddings)
        #expect(c.ropeLocalTheta == 10_000 && c.slidingWindow == 4 && c.hiddenActivation == "gelu_pytorch_tanh")
        #expect(
            c.layerTypes == [
                .slidingAttention, .slidingAttention, .slidingAttention, .slidingAttention, .slidingAttention,
                .fullAttention
            ])
        #expect(c.numKeyValueHeads == 2)
    }

    @Test func gemmaPerLayerPatternFlags() throws {
        let dir = TemporaryDirectory()
        var b = Self.gemma3(blocks: 3, [("gemma3.attention.sliding_window_pattern", .bools([true, false, true]))])
        b.f32Tensor("token_embd.weight", ne: [8, 2], [Float](repeating: 0, count: 16))
        let m = try ModelFiles.open(dir.write("p.gguf", b.bytes()))
        #expect(m.config.layerTypes == [.slidingAttention, .fullAttention, .slidingAttention])
        #expect(m.config.headDim == 4 && m.config.tieWordEmbeddings)
    }

    /// Each corrupt file fails with a message naming the file and the problem.
    @Test(arguments: ["magic", "version", "offset", "type", "blocks", "truncated", "alignment", "arch", "missing"])
    func corruptFilesNameFileAndProblem(_ which: String) throws {
        let dir = TemporaryDirectory()
        var b = GGUFBuilder.tinyLlama()
        b.f32Tensor("token_embd.weight", ne: [8, 3], (0..<24).map(Float.init))
        var expected = ""
        var bytes: [UInt8] = []
        switch which {
        case "magic":
            b.magic = Array("GGML".utf8)
            expected = "magic is 'GGML', expected 'GGUF'"
        case "version":
            b.version = 7
            expected = "unsupported GGUF version 7"
        case "offset":
            b.tensors[0].offset = 4096
            expected = "tensor 'token_embd.weight': data [4096, 4192)"
        case "type":
            b.tensors[0].type = 99
            expected = "tensor 'token_embd.weight': unknown ggml type 99"
        case "blocks":
            b.tensors.append(
                .init(name: "blk.0.attn_q.weight", ne: [40, 1], type: 8, data: [UInt8](repeating: 0, count: 34)))
            expected = "tensor 'blk.0.attn_q.weight': row length ne[0] = 40 is not a multiple of the q8_0 block size 32"
        case "truncated":
            bytes = Array(b.bytes().prefix(200))
            expected = "truncated"
        case "alignment":
            b.tensors[0].offset = 8
            expected = "tensor 'token_embd.weight': data offset 8 is not a multiple of the alignment 32"
        case "arch":
            b.metadata[0] = ("general.architecture", .string("rwkv6"))
            expected = "unsupported architecture 'rwkv6'"
        default:
            b.metadata.remove(at: 3)
            expected = "missing metadata key 'llama.embedding_length'"
        }
        if bytes.isEmpty { bytes = b.bytes() }
        let url = dir.write("bad-\(which).gguf", bytes)
        let message = errorMessage { _ = try ModelFiles.open(url) }
        #expect(message?.contains(url.path) == true, "\(message ?? "no error")")
        #expect(message?.contains(expected) == true, "\(message ?? "no error")")
    }
}
