import Foundation
import LEMFormats

extension InferenceAdapter {
    /// The tensors of one adapted module gathered from a file, before shape checks.
    struct Parts {
        var a: SafetensorsTensor?
        var b: SafetensorsTensor?
        var magnitude: SafetensorsTensor?
    }

    /// Reads an mlx_lm folder: `adapters.safetensors` + `adapter_config.json`.
    init(mlxFolder folder: URL, config: [String: Any]) throws {
        try self.init(
            mlxWeights: folder.appendingPathComponent(Self.mlxWeightsFile), config: config,
            configURL: folder.appendingPathComponent(Self.configFile))
    }

    /// Reads mlx_lm adapter weights (a folder's `adapters.safetensors` or a checkpoint file) with
    /// the run's parsed `adapter_config.json`.
    init(mlxWeights url: URL, config: [String: Any], configURL: URL) throws {
        let typeName = config["fine_tune_type"] as? String ?? "lora"
        guard let type = FineTuneType(rawValue: typeName) else {
            throw FormatError(configURL, "fine_tune_type '\(typeName)' is not an adapter (expected lora or dora)")
        }
        guard let lora = config["lora_parameters"] as? [String: Any],
            let scale = (lora["scale"] as? NSNumber)?.floatValue
        else {
            throw FormatError(configURL, "missing 'lora_parameters.scale'")
        }
        let file = try SafetensorsFile(url: url)
        let parts = try Self.parts(
            of: file, url: url, suffixes: [(".lora_a", \.a), (".lora_b", \.b), (".m", \.magnitude)],
            expected: "not an adapter tensor (expected <module>.lora_a, .lora_b or, for DoRA, .m)")
        let modules = try Self.modules(parts, layout: .mlx, scale: scale, type: type, url: url)
        self.init(weightsFile: url, format: .mlx, fineTuneType: type, modules: modules)
    }

    /// Reads a Hugging Face PEFT folder: `adapter_model.safetensors` + `adapter_config.json`.
    init(peftFolder folder: URL, config: [String: Any]) throws {
        let configURL = folder.appendingPathComponent(Self.configFile)
        let url = folder.appendingPathComponent(Self.peftWeightsFile)
        if let type = config["peft_type"] as? String, type != "LORA" {
            throw FormatError(configURL, "peft_type '\(type)' is not supported (expected LORA)")
        }
        guard let r = (config["r"] as? NSNumber)?.doubleValue, r > 0,
            let alpha = (config["lora_alpha"] as? NSNumber)?.doubleValue
        else {
            throw FormatError(configURL, "needs a positive 'r' and a number 'lora_alpha'")
        }
        for key in ["rank_pattern", "alpha_pattern"] {
            if let pattern = config[key] as? [String: Any], !pattern.isEmpty {
                throw FormatError(configURL, "'\(key)' (per-module ranks or alphas) is not supported")
            }
        }
        if config["fan_in_fan_out"] as? Bool == true {
            throw FormatError(configURL, "'fan_in_fan_out: true' (Conv1D bases) is not supported")
        }
        if config["lora_bias"] as? Bool == true {
            throw FormatError(configURL, "'lora_bias: true' (a bias on lora_B) is not supported")
        }
        let rslora = config["use_rslora"] as? Bool ?? false
        let type: FineTuneType = config["use_dora"] as? Bool == true ? .dora : .lora
        // matches PEFT LoraLayer.update_layer: scaling = alpha / r, or alpha / sqrt(r) with rsLoRA
        let scale = Float(rslora ? alpha / r.squareRoot() : alpha / r)
        let file = try SafetensorsFile(url: url)
        let parts = try Self.parts(
            of: file, url: url, prefix: "base_model.model.",
            suffixes: [
                (".lora_A.weight", \.a), (".lora_B.weight", \.b), (".lora_magnitude_vector", \.magnitude),
                (".lora_magnitude_vector.weight", \.magnitude)
            ],
            expected: "not a LoRA tensor (expected <module>.lora_A.weight, .lora_B.weight or .lora_magnitude_vector)")
        let modules = try Self.modules(parts, layout: .peft, scale: scale, type: type, url: url)
        self.init(weightsFile: url, format: .peft, fineTuneType: type, modules: modules)
    }

    /// Gathers a weights file's tensors by module: each name, less `prefix` where it has it, is
    /// `<module><suffix>` for one of `suffixes`, which says the tensor's part; any other name is
    /// the error `expected`.
    static func parts(
        of file: SafetensorsFile, url: URL, prefix: String = "",
        suffixes: [(String, WritableKeyPath<Parts, SafetensorsTensor?>)], expected: String
    ) throws -> [String: Parts] {
        var parts: [String: Parts] = [:]
        for name in file.names {
            let tensor = try file.tensor(name)
            let stem = name.hasPrefix(prefix) ? String(name.dropFirst(prefix.count)) : name
            guard let (suffix, part) = suffixes.first(where: { stem.hasSuffix($0.0) }) else {
                throw FormatError(url, tensor: name, expected)
            }
            parts[String(stem.dropLast(suffix.count)), default: Parts()][keyPath: part] = tensor
        }
        return parts
    }

    /// Checks each module's pair of tensors and builds the modules, keyed by canonical path.
    ///
    /// mlx_lm stores A (in, r) and B (r, out) as `lora_a` / `lora_b`; PEFT stores Aᵀ (r, in) and
    /// Bᵀ (out, r) as `lora_A` / `lora_B`, transposed here into mlx_lm's layout.
    static func modules(_ parts: [String: Parts], layout: Format, scale: Float, type: FineTuneType, url: URL) throws
        -> [String: Module]
    {
        let peft = layout == .peft
        let (aName, bName) = peft ? ("lora_A", "lora_B") : ("lora_a", "lora_b")
        var modules: [String: Module] = [:]
        for (path, part) in parts {
            guard let a = part.a, let b = part.b else {
                throw FormatError(url, tensor: path, "has only one of \(aName) / \(bName)")
            }
            var av = try Self.matrix(a, file: url)
            var bv = try Self.matrix(b, file: url)
            let rank = a.shape[peft ? 0 : 1]
            let inputs = a.shape[peft ? 1 : 0]
            let outputs = b.shape[peft ? 0 : 1]
            guard b.shape[peft ? 1 : 0] == rank else {
                let (aAxes, bAxes) = peft ? ("(r, in)", "(out, r)") : ("(in, r)", "(r, out)")
                throw FormatError(
                    url, tensor: path,
                    "\(aName) \(a.shape) \(aAxes) and \(bName) \(b.shape) \(bAxes) disagree on the rank")
            }
            let magnitude = try Self.magnitude(part.magnitude, type: type, outputs: outputs, path: path, url: url)
            if peft {
                av = Self.transpose(av, rows: rank, columns: inputs)
                bv = Self.transpose(bv, rows: outputs, columns: rank)
            }
            modules[Self.canonicalPath(path)] = Module(
                key: path, inputs: inputs, outputs: outputs, rank: rank, scale: scale, a: av, b: bv,
                magnitude: magnitude)
        }
        return modules
    }

    /// Checks and decodes a DoRA magnitude: required for DoRA, forbidden for LoRA, shape (out).
    static func magnitude(_ tensor: SafetensorsTensor?, type: FineTuneType, outputs: Int, path: String, url: URL) throws
        -> [Float]?
    {
        switch (type, tensor) {
        case (.lora, nil): return nil
        case (.lora, .some(let m)):
            throw FormatError(url, tensor: m.name, "a DoRA magnitude in an adapter whose config says LoRA")
        case (.dora, nil):
            throw FormatError(url, tensor: path, "DoRA adapter without a magnitude vector")
        case (.dora, .some(let m)):
            guard m.elementCount == outputs, m.shape.count == 1 || (m.shape.count == 2 && m.shape.contains(1)) else {
                throw FormatError(url, tensor: m.name, "magnitude has shape \(m.shape), expected [\(outputs)]")
            }
            return m.decodeAll()
        }
    }

    /// The transpose of a row-major (rows, columns) matrix.
    static func transpose(_ x: [Float], rows: Int, columns: Int) -> [Float] {
        var result = [Float](repeating: 0, count: x.count)
        for r in 0..<rows { for c in 0..<columns { result[c * rows + r] = x[r * columns + c] } }
        return result
    }
}
