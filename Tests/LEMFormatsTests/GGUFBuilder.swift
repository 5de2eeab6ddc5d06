import Foundation

/// Writes small GGUF files for tests, including deliberately corrupt ones.
struct GGUFBuilder {
    enum Value {
        case u32(UInt32)
        case i32(Int32)
        case f32(Float)
        case bool(Bool)
        case string(String)
        case strings([String])
        case floats([Float])
        case nested([[UInt32]])
        case bools([Bool])
    }

    struct Tensor {
        var name: String
        var ne: [UInt64]
        var type: UInt32
        var data: [UInt8]
        /// Overrides the computed offset (for corrupt files).
        var offset: UInt64? = nil
    }

    var magic = Array("GGUF".utf8)
    var version: UInt32 = 3
    var alignment = 32
    var metadata: [(String, Value)] = []
    var tensors: [Tensor] = []

    mutating func f32Tensor(_ name: String, ne: [Int], _ values: [Float]) {
        let data = values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
        tensors.append(Tensor(name: name, ne: ne.map(UInt64.init), type: 0, data: data))
    }

    private func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    private func str(_ s: String) -> [UInt8] { le(UInt64(s.utf8.count)) + Array(s.utf8) }

    private func encode(_ v: Value) -> [UInt8] {
        switch v {
        case .u32(let x): return le(UInt32(4)) + le(x)
        case .i32(let x): return le(UInt32(5)) + le(x)
        case .f32(let x): return le(UInt32(6)) + le(x.bitPattern)
        case .bool(let b): return le(UInt32(7)) + [b ? 1 : 0]
        case .string(let s): return le(UInt32(8)) + str(s)
        case .strings(let a): return le(UInt32(9)) + le(UInt32(8)) + le(UInt64(a.count)) + a.flatMap(str)
        case .floats(let a):
            return le(UInt32(9)) + le(UInt32(6)) + le(UInt64(a.count)) + a.flatMap { le($0.bitPattern) }
        case .bools(let a): return le(UInt32(9)) + le(UInt32(7)) + le(UInt64(a.count)) + a.map { $0 ? 1 : 0 }
        case .nested(let a):
            return le(UInt32(9)) + le(UInt32(9)) + le(UInt64(a.count))
                + a.flatMap { inner in le(UInt32(4)) + le(UInt64(inner.count)) + inner.flatMap { le($0) } }
        }
    }

    func bytes() -> [UInt8] {
        var out = magic + le(version) + le(UInt64(tensors.count)) + le(UInt64(metadata.count))
        for (k, v) in metadata { out += str(k) + encode(v) }
        var offsets: [UInt64] = []
        var cursor: UInt64 = 0
        for t in tensors {
            offsets.append(t.offset ?? cursor)
            cursor += UInt64((t.data.count + alignment - 1) / alignment * alignment)
        }
        for (t, off) in zip(tensors, offsets) {
            out += str(t.name) + le(UInt32(t.ne.count)) + t.ne.flatMap { le($0) } + le(t.type) + le(off)
        }
        while out.count % alignment != 0 { out.append(0) }
        for t in tensors {
            out += t.data
            while out.count % alignment != 0 { out.append(0) }
        }
        return out
    }

    /// A tiny llama model: hidden 8, 2 heads of 4, 1 KV head, 1 layer, vocab 3, tied embeddings.
    static func tinyLlama() -> GGUFBuilder {
        var b = GGUFBuilder()
        b.metadata = [
            ("general.architecture", .string("llama")),
            ("llama.block_count", .u32(1)),
            ("llama.context_length", .u32(64)),
            ("llama.embedding_length", .u32(8)),
            ("llama.feed_forward_length", .u32(16)),
            ("llama.attention.head_count", .u32(2)),
            ("llama.attention.head_count_kv", .u32(1)),
            ("llama.rope.freq_base", .f32(100_000)),
            ("llama.attention.layer_norm_rms_epsilon", .f32(1e-5)),
            ("tokenizer.ggml.model", .string("gpt2")),
            ("tokenizer.ggml.tokens", .strings(["<s>", "</s>", "hi"])),
            ("tokenizer.ggml.scores", .floats([0, -1, -2.5])),
            ("tokenizer.ggml.bos_token_id", .u32(0)),
            ("tokenizer.ggml.eos_token_id", .u32(1)),
            ("test.nested", .nested([[1, 2], [3]])),
            ("tokenizer.ggml.add_bos_token", .bool(true)),
            ("test.signed", .i32(-5))
        ]
        return b
    }
}
