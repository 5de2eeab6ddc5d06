import Foundation
import LEMFormats

extension LoRAAdapter {
    /// Reads an mlx_lm adapter folder (`adapter_config.json` + `adapters.safetensors`).
    public init(folder: URL) throws {
        let configURL = folder.appendingPathComponent(Self.configFile)
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL))
        } catch {
            throw FormatError(configURL, "cannot read adapter config: \(error.localizedDescription)")
        }
        guard let config = object as? [String: Any] else { throw FormatError(configURL, "expected a JSON object") }
        let type = config["fine_tune_type"] as? String ?? "lora"
        guard type == "lora" || type == "dora" else {
            throw FormatError(configURL, "fine_tune_type '\(type)' is not supported; expected 'lora' or 'dora'")
        }
        guard let lora = config["lora_parameters"] as? [String: Any] else {
            throw FormatError(configURL, "missing 'lora_parameters'")
        }
        guard let rank = lora["rank"] as? Int, let scale = (lora["scale"] as? NSNumber)?.doubleValue else {
            throw FormatError(configURL, "'lora_parameters' needs an integer 'rank' and a number 'scale'")
        }
        let parameters = TrainingConfig.LoRAParameters(
            rank: rank, scale: scale, dropout: (lora["dropout"] as? NSNumber)?.doubleValue ?? 0,
            keys: lora["keys"] as? [String])
        let numLayers = config["num_layers"] as? Int ?? 16
        try self.init(
            weightsFile: folder.appendingPathComponent(Self.weightsFile), parameters: parameters, numLayers: numLayers)
        let url = folder.appendingPathComponent(Self.weightsFile)
        if type == "dora", let w = weights.first(where: { $0.magnitude == nil }) {
            throw FormatError(url, tensor: w.modulePath, "DoRA adapter without a magnitude '.m'")
        }
        if type == "lora", let w = weights.first(where: { $0.magnitude != nil }) {
            throw FormatError(url, tensor: w.modulePath + ".m", "a DoRA magnitude in an adapter whose config says lora")
        }
    }

    /// Reads adapter weights from a safetensors file (`adapters.safetensors` or a checkpoint).
    ///
    /// Unlike mlx_lm, which silently ignores tensors whose names do not match when resuming,
    /// every tensor must be a `model.layers.N.<module>.lora_a|lora_b` pair of consistent shapes
    /// with the given rank (plus, for DoRA, `.m` of shape (out)); anything else is an error
    /// naming the tensor.
    public init(weightsFile url: URL, parameters: TrainingConfig.LoRAParameters, numLayers: Int) throws {
        let file = try SafetensorsFile(url: url)
        var pairs: [String: (a: SafetensorsTensor?, b: SafetensorsTensor?)] = [:]
        var magnitudes: [String: SafetensorsTensor] = [:]
        for name in file.names {
            let tensor = try file.tensor(name)
            if name.hasPrefix("model.layers."), name.hasSuffix(".m"), tensor.shape.count == 1 {
                magnitudes[String(name.dropLast(2))] = tensor
                continue
            }
            let isA = name.hasSuffix(".lora_a")
            let isB = name.hasSuffix(".lora_b")
            guard name.hasPrefix("model.layers."), isA || isB, tensor.shape.count == 2 else {
                throw FormatError(
                    url, tensor: name, "not a LoRA adapter tensor (expected model.layers.N.<module>.lora_a|lora_b, 2-D)"
                )
            }
            let path = String(name.dropLast(7))
            if isA { pairs[path, default: (nil, nil)].a = tensor } else { pairs[path, default: (nil, nil)].b = tensor }
        }
        var weights: [LoRAWeights] = []
        for (path, pair) in pairs {
            guard let a = pair.a, let b = pair.b else {
                throw FormatError(url, tensor: path, "has only one of lora_a / lora_b")
            }
            let parts = path.dropFirst("model.layers.".count).split(separator: ".", maxSplits: 1)
            guard parts.count == 2, let layer = Int(parts[0]) else {
                throw FormatError(url, tensor: path, "expected model.layers.<number>.<module>")
            }
            let inputs = a.shape[0]
            let rank = a.shape[1]
            let outputs = b.shape[1]
            guard b.shape[0] == rank, rank == parameters.rank else {
                throw FormatError(
                    url, tensor: path,
                    "lora_a \(a.shape) and lora_b \(b.shape) do not agree with rank \(parameters.rank)")
            }
            var w = LoRAWeights(
                layer: layer, module: String(parts[1]), inputs: inputs, outputs: outputs, rank: rank,
                a: a.decodeAll(), b: b.decodeAll())
            if let m = magnitudes.removeValue(forKey: path) {
                guard m.shape == [outputs] else {
                    throw FormatError(url, tensor: path + ".m", "magnitude has shape \(m.shape), expected [\(outputs)]")
                }
                w.magnitude = m.decodeAll()
            }
            weights.append(w)
        }
        if let stray = magnitudes.keys.sorted().first {
            throw FormatError(url, tensor: stray + ".m", "a DoRA magnitude without lora_a / lora_b")
        }
        self.init(parameters: parameters, numLayers: numLayers, weights: weights)
    }
}
