import Foundation
import LEMFormats

/// A LoRA or DoRA adapter read from disk for inference: the low-rank matrices of every adapted
/// linear layer, keyed by the layer's Hugging Face module path (`model.layers.N.self_attn.q_proj`).
///
/// Two folder layouts are read:
/// - mlx_lm: `adapters.safetensors` with `<path>.lora_a` (in, r), `<path>.lora_b` (r, out) and,
///   for DoRA, `<path>.m` (out); `adapter_config.json` with `fine_tune_type` (`lora` | `dora`)
///   and `lora_parameters.scale`. `y = x Wᵀ + scale · (x A) B`.
/// - Hugging Face PEFT: `adapter_model.safetensors` with
///   `base_model.model.<path>.lora_A.weight` (r, in), `.lora_B.weight` (out, r) and, for DoRA,
///   `.lora_magnitude_vector` (out); `adapter_config.json` with `r`, `lora_alpha`, `use_rslora`,
///   `use_dora`. Scale `lora_alpha / r` (`lora_alpha / √r` with rsLoRA).
///
/// Matrices are stored in mlx_lm's layout whatever the source, so the inference term and the
/// fuse code have one convention.
public struct InferenceAdapter: Sendable {
    /// Which tool's folder layout the adapter came in.
    public enum Format: String, Sendable, Equatable {
        case mlx
        case peft
    }

    /// LoRA adds the low-rank term; DoRA also rescales every output row to a learned magnitude.
    public enum FineTuneType: String, Sendable, Equatable {
        case lora
        case dora
    }

    /// The low-rank matrices adapting one linear layer.
    public struct Module: Sendable, Equatable {
        /// The tensor-name stem in the adapter file, for error messages.
        public var key: String
        public var inputs: Int
        public var outputs: Int
        public var rank: Int
        /// The adapter's own scale (mlx_lm `scale`, PEFT `alpha / r`).
        public var scale: Float
        /// `lora_a`. // (I, R)
        public var a: [Float]
        /// `lora_b`. // (R, O)
        public var b: [Float]
        /// DoRA's per-output magnitude `m`, nil for LoRA. // (O)
        public var magnitude: [Float]?

        /// Creates a module; buffer sizes must match the shape.
        public init(
            key: String, inputs: Int, outputs: Int, rank: Int, scale: Float, a: [Float], b: [Float],
            magnitude: [Float]? = nil
        ) {
            precondition(
                a.count == inputs * rank && b.count == rank * outputs, "adapter buffer sizes do not match the shape")
            precondition(
                magnitude.map { $0.count == outputs } ?? true, "DoRA magnitude size does not match the outputs")
            self.key = key
            self.inputs = inputs
            self.outputs = outputs
            self.rank = rank
            self.scale = scale
            self.a = a
            self.b = b
            self.magnitude = magnitude
        }
    }

    /// The mlx_lm weights file name.
    public static let mlxWeightsFile = "adapters.safetensors"
    /// The PEFT weights file name.
    public static let peftWeightsFile = "adapter_model.safetensors"
    /// The config file name both tools use.
    public static let configFile = "adapter_config.json"

    /// The file the weights were read from, named in every error about them.
    public var weightsFile: URL
    public var format: Format
    public var fineTuneType: FineTuneType
    /// Every adapted linear layer by its Hugging Face module path.
    public var modules: [String: Module]

    /// Creates an adapter from already decoded modules.
    public init(weightsFile: URL, format: Format, fineTuneType: FineTuneType, modules: [String: Module]) {
        self.weightsFile = weightsFile
        self.format = format
        self.fineTuneType = fineTuneType
        self.modules = modules
    }

    /// Reads an adapter folder, or one checkpoint file a run wrote (`0000100_adapters.safetensors`,
    /// mlx_lm's layout) with its run's `adapter_config.json` beside it.
    public init(path: URL) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path.path, isDirectory: &isDirectory) else {
            throw FormatError(path, "no adapter folder or checkpoint file here")
        }
        if isDirectory.boolValue {
            try self.init(folder: path)
            return
        }
        let folder = path.deletingLastPathComponent()
        let configURL = folder.appendingPathComponent(Self.configFile)
        guard FileManager.default.fileExists(atPath: configURL.path) else {
            throw FormatError(path, "a checkpoint file needs its run's \(Self.configFile) beside it")
        }
        try self.init(mlxWeights: path, config: try Self.readConfig(configURL), configURL: configURL)
    }

    /// Reads an adapter folder, recognising mlx_lm's or PEFT's layout by its weights file.
    ///
    /// A missing or malformed file, an unknown tensor, a half pair or inconsistent shapes throw a
    /// `FormatError` naming the file and the tensor.
    public init(folder: URL) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw FormatError(
                folder,
                "adapter path is not a folder (expected \(Self.mlxWeightsFile) or \(Self.peftWeightsFile) + \(Self.configFile))"
            )
        }
        let config = try Self.readConfig(folder.appendingPathComponent(Self.configFile))
        if fm.fileExists(atPath: folder.appendingPathComponent(Self.mlxWeightsFile).path) {
            try self.init(mlxFolder: folder, config: config)
        } else if fm.fileExists(atPath: folder.appendingPathComponent(Self.peftWeightsFile).path) {
            try self.init(peftFolder: folder, config: config)
        } else {
            throw FormatError(
                folder, "no \(Self.mlxWeightsFile) (mlx_lm) or \(Self.peftWeightsFile) (PEFT) in the adapter folder")
        }
    }

    /// The largest rank of any module.
    public var maxRank: Int { modules.values.map(\.rank).max() ?? 0 }

    /// Reads `adapter_config.json` as a JSON object.
    static func readConfig(_ url: URL) throws -> [String: Any] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw FormatError(url, "cannot read adapter config: \(error.localizedDescription)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data), let dictionary = object as? [String: Any]
        else {
            throw FormatError(url, "adapter config is not a JSON object")
        }
        return dictionary
    }

    /// Decodes a 2-D tensor to f32 after checking it is 2-D.
    static func matrix(_ tensor: SafetensorsTensor, file: URL) throws -> [Float] {
        guard tensor.shape.count == 2 else {
            throw FormatError(file, tensor: tensor.name, "expected a 2-D matrix, found shape \(tensor.shape)")
        }
        return tensor.decodeAll()
    }

    /// Maps a module path as a tool names it to the engine's Hugging Face text-model path:
    /// drops `language_model.` (mlx_lm's multimodal Gemma 3) and turns
    /// `model.language_model.` (transformers' multimodal Gemma 3) into `model.`.
    static func canonicalPath(_ path: String) -> String {
        if path.hasPrefix("language_model.") { return String(path.dropFirst("language_model.".count)) }
        if path.hasPrefix("model.language_model.") { return "model." + path.dropFirst("model.language_model.".count) }
        return path
    }
}
