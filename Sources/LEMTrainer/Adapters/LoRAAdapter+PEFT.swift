import Foundation
import LEMFormats

extension LoRAAdapter {
    /// Writes the adapter in Hugging Face PEFT's format into `folder`: `adapter_model.safetensors`
    /// with `base_model.model.model.layers.N.<module>.lora_A.weight` (r, in) = Aᵀ and
    /// `.lora_B.weight` (out, r) = Bᵀ, and an `adapter_config.json` with `r`,
    /// `lora_alpha = scale·r` (PEFT scales by alpha / r), `target_modules` and
    /// `layers_to_transform`; DoRA magnitudes go to `.lora_magnitude_vector` with `use_dora`.
    public func writePEFT(to folder: URL, baseModel: String? = nil) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var writer = SafetensorsWriter(metadata: ["format": "pt"])
        for w in weights {
            let prefix = "base_model.model.\(w.modulePath)"
            try writer.add(
                "\(prefix).lora_A.weight", shape: [w.rank, w.inputs],
                floats: Self.transpose(w.a, rows: w.inputs, columns: w.rank))
            try writer.add(
                "\(prefix).lora_B.weight", shape: [w.outputs, w.rank],
                floats: Self.transpose(w.b, rows: w.rank, columns: w.outputs))
            if let m = w.magnitude { try writer.add("\(prefix).lora_magnitude_vector", shape: [w.outputs], floats: m) }
        }
        try writer.write(to: folder.appendingPathComponent("adapter_model.safetensors"))
        let modules = Array(Set(weights.map { String($0.module.split(separator: ".").last!) })).sorted()
        let layers = Array(Set(weights.map(\.layer))).sorted()
        let config: [String: Any] = [
            "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": parameters.rank,
            "lora_alpha": parameters.scale * Double(parameters.rank), "lora_dropout": parameters.dropout,
            "target_modules": modules, "layers_to_transform": layers, "bias": "none", "fan_in_fan_out": false,
            "inference_mode": true, "base_model_name_or_path": baseModel ?? NSNull(), "use_dora": fineTuneType == "dora"
        ]
        try Self.writeJSON(config, to: folder.appendingPathComponent("adapter_config.json"))
    }

    /// The transpose of a row-major (rows, columns) matrix.
    static func transpose(_ x: [Float], rows: Int, columns: Int) -> [Float] {
        var result = [Float](repeating: 0, count: x.count)
        for r in 0..<rows { for c in 0..<columns { result[c * rows + r] = x[r * columns + c] } }
        return result
    }
}
