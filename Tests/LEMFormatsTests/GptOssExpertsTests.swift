import Foundation
import Testing

@testable import LEMFormats

/// GPT-OSS expert tensors split into `mlp.experts.{gate,up,down}_proj.{weight,bias}` ([E, out, in]).
@Suite("GPT-OSS experts")
struct GptOssExpertsTests {
    static let p = "model.layers.0.mlp.experts."

    /// Writes `add` into a safetensors file and splits what it reads back.
    static func split(_ add: (inout SafetensorsWriter) throws -> Void) throws -> [String: any WeightTensor] {
        let dir = TemporaryDirectory()
        var writer = SafetensorsWriter()
        try add(&writer)
        let url = dir.url.appendingPathComponent("model.safetensors")
        try writer.write(to: url)
        return try GptOssExperts.split(SafetensorsFile(url: url).tensors, file: url)
    }

    @Test("dense: gate = even columns, up = odd, each transposed to nn.Linear rows; down transposed")
    func dense() throws {
        // E 1, C 2, I 2: gate_up [1, 2, 4] holds value 10·c + j at (c, j).
        let t = try Self.split { w in
            try w.add(Self.p + "gate_up_proj", shape: [1, 2, 4], floats: [0, 1, 2, 3, 10, 11, 12, 13], as: .bf16)
            try w.add(Self.p + "gate_up_proj_bias", shape: [1, 4], floats: [0, 1, 2, 3])
            try w.add(Self.p + "down_proj", shape: [1, 2, 2], floats: [0, 1, 10, 11])
            try w.add(Self.p + "down_proj_bias", shape: [1, 2], floats: [5, 6])
        }
        #expect(t[Self.p + "gate_proj.weight"]?.decodeAll() == [0, 10, 2, 12])
        #expect(t[Self.p + "up_proj.weight"]?.decodeAll() == [1, 11, 3, 13])
        #expect(t[Self.p + "gate_proj.weight"]?.encoding == "bf16")
        #expect(t[Self.p + "gate_proj.bias"]?.decodeAll() == [0, 2])
        #expect(t[Self.p + "up_proj.bias"]?.decodeAll() == [1, 3])
        #expect(t[Self.p + "down_proj.weight"]?.decodeAll() == [0, 10, 1, 11])
        #expect(t[Self.p + "down_proj.bias"]?.decodeAll() == [5, 6])
        #expect(t[Self.p + "gate_up_proj"] == nil)
    }

    @Test("MXFP4: transformers' nibble order (2j low, 2j + 1 high) re-laid as ggml blocks, rows de-interleaved")
    func mxfp4() throws {
        // E 1, 2 rows (gate, up), 32 inputs: row r's element i has code (i + r) % 16; exponent 127 + r.
        var blocks = [UInt8](repeating: 0, count: 2 * 16)
        for r in 0..<2 {
            for i in 0..<32 { blocks[r * 16 + i / 2] |= UInt8((i + r) % 16) << (4 * UInt8(i % 2)) }
        }
        let t = try Self.split { w in
            try w.add(Self.p + "gate_up_proj_blocks", dtype: .u8, shape: [1, 2, 1, 16], bytes: blocks)
            try w.add(Self.p + "gate_up_proj_scales", dtype: .u8, shape: [1, 2, 1], bytes: [127, 128])
        }
        let values: [Float] = [0, 0.5, 1, 1.5, 2, 3, 4, 6, -0, -0.5, -1, -1.5, -2, -3, -4, -6]
        for (r, name) in ["gate_proj", "up_proj"].enumerated() {
            let tensor = try #require(t[Self.p + name + ".weight"])
            #expect(tensor.encoding == "mxfp4" && tensor.shape == [1, 1, 32])
            let expected = (0..<32).map { values[($0 + r) % 16] * Float(1 << r) }
            #expect(tensor.decodeAll() == expected)
        }
    }

    @Test("a wrong shape or half a pair is an error naming the tensor")
    func badInput() throws {
        let wrong = errorText {
            _ = try Self.split { w in
                try w.add(
                    Self.p + "down_proj_blocks", dtype: .u8, shape: [1, 2, 1, 8],
                    bytes: [UInt8](repeating: 0, count: 16))
                try w.add(Self.p + "down_proj_scales", dtype: .u8, shape: [1, 2, 1], bytes: [127, 127])
            }
        }
        #expect(wrong.contains("down_proj_blocks") && wrong.contains("[1, 2, 1, 8]"), "\(wrong)")
        let half = errorText {
            _ = try Self.split { w in
                try w.add(
                    Self.p + "down_proj_blocks", dtype: .u8, shape: [1, 2, 1, 16],
                    bytes: [UInt8](repeating: 0, count: 32))
            }
        }
        #expect(half.contains("down_proj_blocks") && half.contains("MXFP4 pair"), "\(half)")
        let dense = errorText {
            _ = try Self.split { w in try w.add(Self.p + "gate_up_proj", shape: [2, 3], floats: [0, 1, 2, 3, 4, 5]) }
        }
        #expect(dense.contains("gate_up_proj") && dense.contains("[experts, in, 2·out]"), "\(dense)")
    }

    private func errorText(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "no error"
        } catch {
            return "\(error)"
        }
    }
}
