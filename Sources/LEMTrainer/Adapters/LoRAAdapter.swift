import Foundation
import LEMFormats

/// A set of LoRA adapter weights with its settings, stored in mlx_lm's adapter format:
/// a folder with `adapters.safetensors` (`model.layers.N.<module>.lora_a` (in, r) and `.lora_b`
/// (r, out), f32) and `adapter_config.json` (the run's options, including `fine_tune_type`,
/// `num_layers` and `lora_parameters {rank, scale, dropout, keys}`), plus numbered checkpoints
/// `0000100_adapters.safetensors`. Every file is written atomically.
public struct LoRAAdapter: Sendable, Equatable {
    public var parameters: TrainingConfig.LoRAParameters
    /// Blocks adapted, counted from the last (-1 = all), as mlx_lm records it.
    public var numLayers: Int
    /// One entry per adapted linear layer, ordered by layer then module.
    public var weights: [LoRAWeights]

    /// Creates an adapter.
    public init(parameters: TrainingConfig.LoRAParameters, numLayers: Int, weights: [LoRAWeights]) {
        self.parameters = parameters
        self.numLayers = numLayers
        self.weights = weights.sorted { ($0.layer, $0.module) < ($1.layer, $1.module) }
    }

    /// mlx_lm's `fine_tune_type`: `dora` when the layers carry magnitudes, else `lora`.
    public var fineTuneType: String { weights.contains { $0.magnitude != nil } ? "dora" : "lora" }

    /// The adapter weights file name inside an adapter folder.
    public static let weightsFile = "adapters.safetensors"
    /// The adapter config file name inside an adapter folder.
    public static let configFile = "adapter_config.json"

    /// mlx_lm's checkpoint name for `step`: `0000100_adapters.safetensors`.
    public static func checkpointFile(step: Int) -> String {
        let digits = String(step)
        return String(repeating: "0", count: max(0, 7 - digits.count)) + digits + "_adapters.safetensors"
    }

    /// The safetensors file of the weights (tensor names sorted, `format: mlx` metadata).
    public func safetensors() throws -> SafetensorsWriter {
        var writer = SafetensorsWriter(metadata: ["format": "mlx"])
        for w in weights {
            try writer.add("\(w.modulePath).lora_a", shape: [w.inputs, w.rank], floats: w.a)
            try writer.add("\(w.modulePath).lora_b", shape: [w.rank, w.outputs], floats: w.b)
            if let m = w.magnitude { try writer.add("\(w.modulePath).m", shape: [w.outputs], floats: m) }
        }
        return writer
    }

    /// Writes `adapters.safetensors` and `adapter_config.json` into `folder` (created if needed).
    ///
    /// `config` supplies the other run options mlx_lm records; without it only the keys
    /// `load_adapters` needs are written.
    public func write(to folder: URL, config: TrainingConfig? = nil) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try safetensors().write(to: folder.appendingPathComponent(Self.weightsFile))
        try writeConfig(to: folder, config: config)
    }

    /// Writes the weights as checkpoint `step` and as the current `adapters.safetensors`, as
    /// mlx_lm does every `save_every` steps; returns the checkpoint's URL.
    @discardableResult
    public func writeCheckpoint(to folder: URL, step: Int) throws -> URL {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let writer = try safetensors()
        try writer.write(to: folder.appendingPathComponent(Self.weightsFile))
        let checkpoint = folder.appendingPathComponent(Self.checkpointFile(step: step))
        try writer.write(to: checkpoint)
        return checkpoint
    }

    /// Writes `adapter_config.json` atomically.
    public func writeConfig(to folder: URL, config: TrainingConfig? = nil) throws {
        var dictionary = config?.mlxLMDictionary ?? [:]
        var lora: [String: Any] = ["rank": parameters.rank, "scale": parameters.scale, "dropout": parameters.dropout]
        if let keys = parameters.keys { lora["keys"] = keys }
        dictionary["fine_tune_type"] = fineTuneType
        dictionary["num_layers"] = numLayers
        dictionary["lora_parameters"] = lora
        try Self.writeJSON(dictionary, to: folder.appendingPathComponent(Self.configFile))
    }

    /// Serialises `object` with sorted keys and writes it atomically (temp file + rename).
    static func writeJSON(_ object: Any, to url: URL) throws {
        let data = try JSONSerialization.data(
            withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw FormatError(url, "cannot write: \(error.localizedDescription)")
        }
    }
}
