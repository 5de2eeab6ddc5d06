import Foundation
import LEMFormats
import TestSupport
import Testing

@Suite struct MLXQuantizedTensorTests {
    static let fixture = TestPaths.fixture("formats/mlx_quant.safetensors")
    static let cases = [
        "b4g64_bfloat16", "b4g32_float16", "b4g128_float32", "b8g64_bfloat16", "b8g32_float32",
        "b2g64_float16", "b3g64_bfloat16", "b5g32_float32", "b6g64_float16", "b6g128_bfloat16"
    ]

    /// Rows decoded from the packed form equal mlx's `dequantize` (Scripts/fixtures_mlx_quant.py).
    @Test(arguments: cases)
    func decodesLikeMLXDequantize(_ name: String) throws {
        let f = try SafetensorsFile(url: Self.fixture)
        let bits = Int(name.dropFirst().prefix { $0.isNumber })!
        let group = Int(name.split(separator: "g")[1].prefix { $0.isNumber })!
        let t = try MLXQuantizedTensor(
            name: name, packed: f.tensor("\(name).weight"), scales: f.tensor("\(name).scales"),
            biases: f.tensor("\(name).biases"), bits: bits, groupSize: group)
        let expected = try f.tensor("\(name).expected")
        #expect(t.shape == expected.shape && t.shape == [6, 256])
        #expect(t.encoding == "mlx\(bits)g\(group)")
        var row = [Float](repeating: .nan, count: t.columns)
        var want = row
        for r in 0..<t.rows {
            t.decodeRow(r, into: &row)
            expected.decodeRow(r, into: &want)
            if let m = checkClose(row, want, tol: 1e-5, label: "\(name) row \(r)") {
                Issue.record(Comment(rawValue: m))
            }
        }
    }

    @Test func shapeMismatchNamesTheTensor() throws {
        let f = try SafetensorsFile(url: Self.fixture)
        let m = errorMessage {
            _ = try MLXQuantizedTensor(
                name: "x.weight", packed: f.tensor("b4g64_bfloat16.weight"), scales: f.tensor("b4g32_float16.scales"),
                biases: f.tensor("b4g64_bfloat16.biases"), bits: 4, groupSize: 64)
        }
        #expect(
            m?.contains("tensor 'b4g32_float16.scales'") == true && m?.contains("expected [6, 4]") == true, "\(m ?? "")"
        )
        let bits = errorMessage {
            _ = try MLXQuantizedTensor(
                name: "x.weight", packed: f.tensor("b4g64_bfloat16.weight"), scales: f.tensor("b4g64_bfloat16.scales"),
                biases: f.tensor("b4g64_bfloat16.biases"), bits: 7, groupSize: 64)
        }
        #expect(bits?.contains("7 bits is not supported") == true)
    }

    /// A model directory whose config.json has `quantization` opens with quantized tensors wrapped.
    @Test func modelDirectoryWithOverrides() throws {
        let f = try SafetensorsFile(url: Self.fixture)
        let dir = TemporaryDirectory()
        dir.write(
            "config.json",
            text: """
                {"model_type": "llama", "hidden_size": 256, "intermediate_size": 512, "num_hidden_layers": 1,
                 "num_attention_heads": 4, "vocab_size": 6, "tie_word_embeddings": true,
                 "quantization": {"group_size": 64, "bits": 4, "model.layers.0.mlp.down_proj": {"group_size": 32, "bits": 8}}}
                """)
        var w = SafetensorsWriter()
        func copy(_ from: String, _ to: String) throws {
            let t = try f.tensor(from)
            try w.add(to, dtype: t.dtype, shape: t.shape, bytes: Array(t.rawBytes))
        }
        for suffix in ["weight", "scales", "biases"] {
            try copy("b4g64_bfloat16.\(suffix)", "model.embed_tokens.\(suffix)")
            try copy("b8g32_float32.\(suffix)", "model.layers.0.mlp.down_proj.\(suffix)")
        }
        try w.add("model.norm.weight", shape: [256], floats: [Float](repeating: 1, count: 256), as: .bf16)
        try w.write(to: dir.url.appendingPathComponent("model.safetensors"))
        let m = try ModelFiles.open(dir.url)
        #expect(m.format == .mlxQuantized && m.tensors.count == 3)
        let e = try m.tensor("model.embed_tokens.weight")
        #expect(e.shape == [6, 256] && e.encoding == "mlx4g64")
        #expect(
            checkClose(e.decodeAll(), try f.tensor("b4g64_bfloat16.expected").decodeAll(), tol: 1e-5, label: "embed")
                == nil)
        let d = try m.tensor("model.layers.0.mlp.down_proj.weight")
        #expect(d.encoding == "mlx8g32")
        #expect(
            checkClose(d.decodeAll(), try f.tensor("b8g32_float32.expected").decodeAll(), tol: 1e-5, label: "down")
                == nil)
        #expect(try m.tensor("model.norm.weight").encoding == "bf16")
    }
}
