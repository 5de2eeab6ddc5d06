import Foundation

/// Groups an MLX checkpoint's `X.weight` / `X.scales` / `X.biases` triples into
/// `MLXQuantizedTensor`s, leaving unquantized tensors as they are.
enum MLXQuantized {
    /// The bits and group size of module `module` (`model.layers.0.mlp.down_proj`): its override
    /// from `config.json` if any, else the model-wide setting.
    static func parameters(for module: String, config: ModelConfig) -> ModelConfig.Quantization? {
        if let o = config.quantizationOverrides?[module] { return o }
        // Overrides may be keyed without the multimodal prefix or with it.
        if let hf = ModelFiles.textModelName(module + ".weight"),
            let o = config.quantizationOverrides?[String(hf.dropLast(7))]
        {
            return o
        }
        return config.quantization
    }

    static func wrap(
        _ raw: [String: SafetensorsTensor], config: ModelConfig
    ) throws -> [String: any WeightTensor] {
        var out: [String: any WeightTensor] = [:]
        var consumed = Set<String>()
        for name in raw.keys.sorted() where name.hasSuffix(".scales") {
            let module = String(name.dropLast(".scales".count))
            let weightName = module + ".weight"
            let scales = raw[name]!
            guard let weight = raw[weightName] else {
                throw FormatError(scales.file.url, tensor: name, "has no matching '\(weightName)'")
            }
            guard let biases = raw[module + ".biases"] else {
                throw FormatError(
                    scales.file.url, tensor: name,
                    "has no matching '\(module).biases' (only affine MLX quantization is supported)")
            }
            guard let q = parameters(for: module, config: config) else {
                throw FormatError(
                    weight.file.url, tensor: weightName,
                    "is MLX-quantized but config.json has no 'quantization' {group_size, bits}")
            }
            out[weightName] = try MLXQuantizedTensor(
                name: weightName, packed: weight, scales: scales, biases: biases, bits: q.bits, groupSize: q.groupSize)
            consumed.formUnion([name, weightName, module + ".biases"])
        }
        for (name, t) in raw where !consumed.contains(name) { out[name] = t }
        return out
    }
}
