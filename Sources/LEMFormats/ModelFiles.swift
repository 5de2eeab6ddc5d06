import Foundation
import LEMCore

/// A model on disk opened for inference or training: its configuration and its weights.
///
/// The single entry point for every format: `ModelFiles.open(url)` accepts a directory holding
/// `config.json` and `*.safetensors` (single file or sharded with `model.safetensors.index.json`,
/// plain or MLX-quantized) or a `.gguf` file. Tensors are memory mapped, named and shaped as in
/// Hugging Face (`model.layers.0.self_attn.q_proj.weight`, `[out, in]`).
public struct ModelFiles: Sendable {
    /// How the weights are stored.
    public enum Format: String, Sendable, Equatable {
        case safetensors
        case mlxQuantized = "mlx-quantized"
        case gguf
    }

    /// The directory or `.gguf` file that was opened.
    public let url: URL
    /// The storage format.
    public let format: Format
    /// The architecture hyper-parameters.
    public let config: ModelConfig
    /// Every tensor by its Hugging Face name.
    public let tensors: [String: any WeightTensor]
    /// Safetensors `__metadata__` of all shards merged (empty for GGUF).
    public let metadata: [String: String]
    /// The parsed GGUF file (metadata, tensor directory), nil for safetensors models.
    public let gguf: GGUFFile?

    /// A one-line description: path, format and tensor count.
    public var source: String { "\(url.path) (\(format.rawValue), \(tensors.count) tensors)" }

    /// The tensor called `name` (Hugging Face naming), or an error naming it and the model.
    public func tensor(_ name: String) throws -> any WeightTensor {
        guard let t = tensors[name] else {
            throw FormatError(
                url, tensor: name, "not found in this model (\(tensors.count) tensors, format \(format.rawValue))")
        }
        return t
    }

    /// The tensor called `name` if present (for optional weights such as biases or `lm_head`).
    public func optionalTensor(_ name: String) -> (any WeightTensor)? { tensors[name] }

    /// The sum of every tensor's stored bytes.
    public var storedBytes: Int { tensors.values.reduce(0) { $0 + $1.storedBytes } }

    /// Opens a model directory (`config.json` + safetensors) or a `.gguf` file.
    public static func open(_ url: URL) throws -> ModelFiles {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
            throw FormatError(url, "no such file or directory")
        }
        if isDir.boolValue { return try openSafetensorsDirectory(url) }
        if url.pathExtension.lowercased() == "gguf" { return try openGGUF(url) }
        throw FormatError(url, "not a model: expected a directory with config.json and *.safetensors, or a .gguf file")
    }

    /// The safetensors files of a model directory: the index's shards, `model.safetensors`, or
    /// every `*.safetensors` (sorted) except adapters.
    static func safetensorsFiles(in dir: URL) throws -> (files: [URL], weightMap: [String: String]?) {
        let index = dir.appendingPathComponent("model.safetensors.index.json")
        if let data = FileManager.default.contents(atPath: index.path) {
            guard case .object(let root) = try JSONValue.parse(data, file: index),
                case .object(let map) = root["weight_map"] ?? .null
            else {
                throw FormatError(index, "expected an object with a 'weight_map' object")
            }
            var weightMap: [String: String] = [:]
            for (name, v) in map {
                guard let f = v.string, !f.contains("/") else {
                    throw FormatError(index, tensor: name, "weight_map value must be a file name in the same folder")
                }
                weightMap[name] = f
            }
            let files = Set(weightMap.values).sorted().map { dir.appendingPathComponent($0) }
            return (files, weightMap)
        }
        let single = dir.appendingPathComponent("model.safetensors")
        if FileManager.default.fileExists(atPath: single.path) { return ([single], nil) }
        let all = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        let files = all.filter { $0.hasSuffix(".safetensors") && !$0.contains("adapters") }.sorted()
            .map { dir.appendingPathComponent($0) }
        guard !files.isEmpty else { throw FormatError(dir, "no *.safetensors files in this directory") }
        return (files, nil)
    }

    /// Maps a checkpoint name to the Hugging Face text-model name, nil for tensors the text model
    /// does not use (a multimodal Gemma 3's vision tower and projector).
    static func textModelName(_ raw: String) -> String? {
        if raw.hasPrefix("vision_tower.") || raw.hasPrefix("multi_modal_projector.")
            || raw.hasPrefix("model.vision_tower.") || raw.hasPrefix("model.multi_modal_projector.")
        {
            return nil
        }
        if raw.hasPrefix("language_model.") { return String(raw.dropFirst("language_model.".count)) }
        if raw.hasPrefix("model.language_model.") { return "model." + raw.dropFirst("model.language_model.".count) }
        return raw
    }

    static func openSafetensorsDirectory(_ dir: URL) throws -> ModelFiles {
        let config = try ModelConfig.load(directory: dir)
        let (files, weightMap) = try safetensorsFiles(in: dir)
        var raw: [String: SafetensorsTensor] = [:]
        var origin: [String: URL] = [:]
        var metadata: [String: String] = [:]
        for url in files {
            let f = try SafetensorsFile(url: url)
            metadata.merge(f.metadata) { a, _ in a }
            for (name, t) in f.tensors {
                if let other = origin[name] {
                    throw FormatError(url, tensor: name, "also present in \(other.lastPathComponent)")
                }
                raw[name] = t
                origin[name] = url
            }
        }
        if let weightMap {
            for (name, file) in weightMap.sorted(by: { $0.key < $1.key }) where origin[name]?.lastPathComponent != file
            {
                throw FormatError(
                    dir.appendingPathComponent(file), tensor: name,
                    "listed in model.safetensors.index.json but not found in this shard")
            }
        }
        let isQuantized = config.quantization != nil || raw.keys.contains { $0.hasSuffix(".scales") }
        var tensors: [String: any WeightTensor] = [:]
        if config.modelType == "gpt_oss" {
            guard !isQuantized else {
                throw FormatError(dir, "MLX-quantized GPT-OSS is not supported (bf16/f32 or MXFP4 experts are)")
            }
            tensors = try GptOssExperts.split(raw, file: dir)
        } else if isQuantized {
            tensors = try MLXQuantized.wrap(raw, config: config)
        } else {
            for (name, t) in raw { tensors[name] = t }
        }
        var renamed: [String: any WeightTensor] = [:]
        for (name, t) in tensors {
            if let hf = textModelName(name) { renamed[hf] = t }
        }
        return ModelFiles(
            url: dir, format: isQuantized ? .mlxQuantized : .safetensors, config: config, tensors: renamed,
            metadata: metadata, gguf: nil)
    }
}
