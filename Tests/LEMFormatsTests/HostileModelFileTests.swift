import Foundation
import Testing

@testable import LEMFormats

/// Minimal reproducers of sizes and strings from hostile model files: each must end in a clear
/// error naming the file and the key, at most 4 KB with control characters escaped, before
/// anything is sized by the bad number.
@Suite struct HostileModelFileTests {
    let tmp = TemporaryDirectory()

    func gguf(_ edit: (inout GGUFBuilder) -> Void) -> URL {
        var b = GGUFBuilder.tinyLlama()
        edit(&b)
        return tmp.write("m.gguf", b.bytes())
    }

    func set(_ b: inout GGUFBuilder, _ key: String, _ value: GGUFBuilder.Value) {
        b.metadata.removeAll { $0.0 == key }
        b.metadata.append((key, value))
    }

    func configError(_ url: URL) -> String {
        errorMessage { _ = try ModelConfig(gguf: try GGUFFile(url: url)) } ?? "no error"
    }

    @Test("GGUF sizes: zero KV heads, 10^9 / 2^31 blocks, 10^18 heads")
    func ggufSizes() {
        let kv = configError(gguf { set(&$0, "llama.attention.head_count_kv", .u32(0)) })
        #expect(kv.contains("llama.attention.head_count_kv") && kv.contains("m.gguf"), "\(kv)")
        for blocks: UInt32 in [1_000_000_000, 1 << 31] {
            let m = configError(gguf { set(&$0, "llama.block_count", .u32(blocks)) })
            #expect(m.contains("llama.block_count"), "\(m)")
        }
        // The builder writes u32 values; 2³² − 1 heads is past every size limit (10¹⁸ in config.json below).
        let heads = configError(gguf { set(&$0, "llama.attention.head_count", .u32(UInt32.max)) })
        #expect(heads.contains("llama.attention.head_count"), "\(heads)")
    }

    @Test("GGUF floats: NaN or negative epsilon, non-numeric RoPE base")
    func ggufFloats() {
        for eps: Float in [.nan, -1, .infinity] {
            let m = configError(gguf { set(&$0, "llama.attention.layer_norm_rms_epsilon", .f32(eps)) })
            #expect(m.contains("layer_norm_rms_epsilon"), "\(m)")
        }
        let theta = configError(gguf { set(&$0, "llama.rope.freq_base", .string("ten thousand")) })
        #expect(theta.contains("llama.rope.freq_base"), "\(theta)")
        let zero = configError(gguf { set(&$0, "llama.rope.freq_base", .f32(0)) })
        #expect(zero.contains("llama.rope.freq_base"), "\(zero)")
    }

    @Test("the layers the weights hold")
    func layerCount() {
        #expect(ModelConfig.layerCount(in: ["model.layers.0.a", "model.layers.11.b", "lm_head.weight"]) == 12)
        #expect(ModelConfig.layerCount(in: ["model.embed_tokens.weight", "model.layers.x.y"]) == 0)
        #expect(ModelConfig.layerCount(in: ["model.layers.99999999999999999999.a"]) == 0)
    }

    @Test("overlapping GGUF tensor spans, also through a changed type")
    func overlappingSpans() {
        let url = gguf {
            $0.f32Tensor("a.weight", ne: [8], [Float](repeating: 1, count: 8))
            $0.f32Tensor("b.weight", ne: [8], [Float](repeating: 2, count: 8))
            $0.tensors[1].offset = 0
        }
        let m = errorMessage { _ = try GGUFFile(url: url) } ?? "no error"
        #expect(m.contains("overlaps tensor 'a.weight'"), "\(m)")
        let retyped = gguf {
            $0.f32Tensor("a.weight", ne: [32], [Float](repeating: 1, count: 32))
            $0.f32Tensor("b.weight", ne: [32], [Float](repeating: 2, count: 32))
            $0.f32Tensor("c.weight", ne: [32], [Float](repeating: 2, count: 32))
            $0.tensors[0].ne = [64]  // now spans into b's bytes; the data section is long enough
        }
        let r = errorMessage { _ = try GGUFFile(url: retyped) } ?? "no error"
        #expect(r.contains("overlaps"), "\(r)")
    }

    @Test("a 150 KB metadata key with escape bytes gives a short, escaped message")
    func longEscapedKey() {
        let key = String(repeating: "\u{1B}[31m", count: 30_000)
        let url = gguf {
            $0.metadata.append((key, .u32(1)))
            $0.metadata.append((key, .u32(2)))
        }
        let m = errorMessage { _ = try GGUFFile(url: url) } ?? "no error"
        #expect(m.utf8.count <= 4096, "\(m.utf8.count) bytes")
        #expect(!m.utf8.contains(0x1B))
        #expect(m.contains("appears twice") && m.contains("\\u{1B}"), "\(m.prefix(300))")
        let arch = gguf { set(&$0, "general.architecture", .string(key)) }
        let a = configError(arch)
        #expect(a.utf8.count <= 4096 && !a.utf8.contains(0x1B), "\(a.prefix(300))")
    }

    @Test("config.json: sizes, epsilon, RoPE values of the wrong type or range")
    func configJSON() {
        func error(_ extra: String) -> String {
            // Later keys replace the defaults (JSONDecoder keeps the first of a repeated key).
            var fields: [String: String] = [
                "model_type": #""llama""#, "hidden_size": "8", "intermediate_size": "16", "num_attention_heads": "2",
                "vocab_size": "3", "num_hidden_layers": "1"
            ]
            let extraObject = try! JSONSerialization.jsonObject(with: Data("{\(extra)}".utf8)) as! [String: Any]
            for (k, v) in extraObject {
                let data = try! JSONSerialization.data(withJSONObject: v, options: [.fragmentsAllowed])
                fields[k] = String(decoding: data, as: UTF8.self)
            }
            let json = "{" + fields.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ") + "}"
            return errorMessage {
                _ = try ModelConfig(configJSON: Data(json.utf8), file: URL(fileURLWithPath: "/m/config.json"))
            } ?? "no error"
        }
        #expect(error(#""num_hidden_layers": 1000000000"#).contains("num_hidden_layers"))
        #expect(error(#""num_hidden_layers": 1, "num_key_value_heads": 0"#).contains("num_key_value_heads"))
        #expect(
            error(#""num_hidden_layers": 1, "num_attention_heads": 1000000000000000000"#).contains(
                "num_attention_heads"))
        #expect(error(#""num_hidden_layers": 1, "rms_norm_eps": -1e-6"#).contains("rms_norm_eps"))
        #expect(error(#""num_hidden_layers": 1, "rope_theta": "10000""#).contains("rope_theta"))
        #expect(error(#""num_hidden_layers": 1, "rope_theta": [1]"#).contains("rope_theta"))
        #expect(error(#""num_hidden_layers": 1, "head_dim": 2147483648"#).contains("head_dim"))
        let llama3 =
            #""num_hidden_layers": 1, "rope_scaling": {"rope_type": "llama3", "factor": 8, "low_freq_factor": 1, "high_freq_factor": 4, "original_max_position_embeddings": 1e300}"#
        #expect(error(llama3).contains("original_max_position_embeddings"))
        #expect(error(#""num_hidden_layers": 1"#) == "no error")
    }

    @Test("error text from files is clipped and escaped")
    func errorText() {
        #expect(ErrorText.clip("a\u{1B}b\nc") == "a\\u{1B}b\\nc")
        #expect(ErrorText.clip(String(repeating: "x", count: 500), limit: 10) == "xxxxxxxxxx… (490 more bytes)")
        let long = "file: " + String(repeating: "é", count: 10_000) + " the reason"
        let bounded = ErrorText.bounded(long)
        #expect(bounded.utf8.count <= 4096 && bounded.hasPrefix("file: ") && bounded.hasSuffix("the reason"))
        #expect(ErrorText.bounded("a\u{9B}b\u{202E}c\nd") == "a\\u{9B}b\\u{202E}c\nd")
        #expect(FormatError(URL(fileURLWithPath: "/x"), tensor: "\u{1B}", "bad").message == "/x: tensor '\\u{1B}': bad")
    }
}
