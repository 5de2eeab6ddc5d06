import Foundation
import LEMEngine
import TestSupport
import Testing

/// The tiny models loaded from GGUF (llama.cpp's converter) and MLX quantized exports, checked
/// against the float32 reference computed from exactly the weights each file holds.
@Suite("Tiny models from GGUF and MLX files")
struct FormatVariantTests {
    /// (model file or directory, reference json) under Tests/Fixtures/engine.
    static let cases: [(String, String)] = [
        // GGUF F32: transformers on the original float model is the reference.
        ("llama3_tiny/model-f32.gguf", "llama3_tiny/reference.json"),
        ("qwen2_tiny/model-f32.gguf", "qwen2_tiny/reference.json"),
        // GGUF quantized: transformers on the GGUF's weights dequantized to float32.
        ("llama3_tiny/model-q8_0.gguf", "llama3_tiny/reference_dequant_q8_0.json"),
        ("qwen2_tiny/model-q8_0.gguf", "qwen2_tiny/reference_dequant_q8_0.json"),
        ("gemma3_tiny_lcpp/model-q8_0.gguf", "gemma3_tiny_lcpp/reference_dequant_q8_0.json"),
        ("gemma3_tiny_scaled_lcpp/model-q8_0.gguf", "gemma3_tiny_scaled_lcpp/reference_dequant_q8_0.json"),
        ("llama3_tiny_k256/model-q4_k.gguf", "llama3_tiny_k256/reference_dequant_q4_k.json"),
        // MLX affine 4/8-bit: mlx_lm's own forward of the quantized model.
        ("llama3_tiny-mlx4", "llama3_tiny-mlx4/reference_mlx.json"),
        ("llama3_tiny-mlx8", "llama3_tiny-mlx8/reference_mlx.json"),
        ("qwen2_tiny-mlx4", "qwen2_tiny-mlx4/reference_mlx.json"),
        ("qwen2_tiny-mlx8", "qwen2_tiny-mlx8/reference_mlx.json"),
        ("gemma3_tiny-mlx4", "gemma3_tiny-mlx4/reference_mlx.json"),
        ("gemma3_tiny-mlx8", "gemma3_tiny-mlx8/reference_mlx.json"),
        ("gemma3_tiny_scaled-mlx4", "gemma3_tiny_scaled-mlx4/reference_mlx.json"),
        // MLX mixed precision (per-module entries with "group_size": null) and 5-bit:
        // Scripts/fixtures_mlx_mixed.py; together they cover 2, 3, 4, 5 and 6 bits.
        ("gemma3_tiny-mixed26", "gemma3_tiny-mixed26/reference_mlx.json"),
        ("gemma3_tiny-mixed34", "gemma3_tiny-mixed34/reference_mlx.json"),
        ("gemma3_tiny-mixed36", "gemma3_tiny-mixed36/reference_mlx.json"),
        ("gemma3_tiny-mixed46", "gemma3_tiny-mixed46/reference_mlx.json"),
        ("gemma3_tiny-mlx5", "gemma3_tiny-mlx5/reference_mlx.json")
    ]

    @Test("prompt logits, cached steps and greedy ids match the reference to 1e-4", arguments: cases)
    func matchesReference(model: String, reference: String) throws {
        let ref = try TinyModelReference.load(file: "engine/\(reference)")
        let lm = try ModelFactory.load(TestPaths.fixture("engine/\(model)"))
        let (prompt, steps) = try ref.check(lm, tol: 1e-4, label: model)
        print("\(model): prompt max |Δ| \(prompt), steps \(steps)")
    }
}
