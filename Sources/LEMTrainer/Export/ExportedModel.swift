import Foundation
import LEMFormats

/// The base model of an exported run, as another trainer must be told about it.
///
/// mlx_lm and TRL read a Hugging Face repository id or a folder of safetensors; neither trains
/// on a GGUF file, and transformers (TRL) cannot load MLX-quantized weights. A snapshot in the
/// Hugging Face cache (`…/models--ORG--NAME/snapshots/<commit>`) is written as `ORG/NAME`, which
/// every machine with the Hub can fetch.
public struct ExportedModel: Sendable, Equatable {
    /// What the model path is.
    public enum Kind: Sendable, Equatable {
        /// A repository in a Hugging Face cache snapshot, or an `ORG/NAME` not on this machine.
        case hubRepository(String)
        /// A local folder with `config.json` and weights (safetensors, maybe MLX-quantized).
        case folder
        /// A single GGUF file.
        case gguf
    }

    /// The model as `lem train` resolved it (a path, or `ORG/NAME` when not found locally).
    public var path: String
    public var kind: Kind
    /// Whether the folder's `config.json` declares MLX quantization (`quantization:`).
    public var mlxQuantized: Bool
    /// The number of blocks, when the model could be read here (for TRL's layer selection).
    public var layerCount: Int?
    /// For a GGUF file, the Hugging Face repository its metadata names (see `repository(named:)`).
    public var ggufSource: String?

    /// Looks at `spec` (a path, `~` expanded, or a repository id).
    public init(_ spec: String) {
        let expanded = (spec as NSString).expandingTildeInPath
        let url = URL(fileURLWithPath: expanded).standardizedFileURL
        var isFolder: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder)
        path = exists ? url.path : spec
        mlxQuantized = false
        layerCount = nil
        ggufSource = nil
        if !exists {
            kind = .hubRepository(spec)
            return
        }
        if !isFolder.boolValue {
            kind = url.pathExtension.lowercased() == "gguf" ? .gguf : .folder
            let gguf = try? GGUFFile(url: url)
            layerCount = gguf.flatMap { try? ModelConfig(gguf: $0) }?.numHiddenLayers
            ggufSource = gguf.flatMap(Self.repository(named:))
            return
        }
        let config = try? ModelConfig.load(directory: url)
        layerCount = config?.numHiddenLayers
        mlxQuantized = config?.quantization != nil
        kind = Self.hubRepository(of: url).map { .hubRepository($0) } ?? .folder
    }

    /// The repository a GGUF file's metadata names: `general.source.huggingface.repository`, else
    /// the first base model's or the source's Hub URL. `general.organization` + `general.basename`
    /// are not used: converters fill them from training-run names (SmolLM2-135M-Instruct's GGUF
    /// says `HuggingFaceTB` / `smollm2` / `8k-lc100k-mix1-ep2`), which name no repository.
    static func repository(named gguf: GGUFFile) -> String? {
        if let repo = gguf.string("general.source.huggingface.repository"), HubCache.isRepoID(repo) { return repo }
        for key in ["general.base_model.0.repo_url", "general.source.url"] {
            guard let url = gguf.string(key), let range = url.range(of: "huggingface.co/") else { continue }
            let repo = String(url[range.upperBound...]).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            if repo.contains("/"), HubCache.isRepoID(repo) { return repo }
        }
        return nil
    }

    /// `ORG/NAME` when `folder` is `…/models--ORG--NAME/snapshots/<commit>`.
    static func hubRepository(of folder: URL) -> String? {
        let parts = folder.pathComponents
        guard parts.count >= 3, parts[parts.count - 2] == "snapshots" else { return nil }
        return HubCache.repo(folderName: parts[parts.count - 3])
    }

    /// What to write as the model: `ORG/NAME` for a Hub snapshot (unless `preferLocal`, for a
    /// run on this machine), else the path.
    public func reference(preferLocal: Bool = false) -> String {
        if case .hubRepository(let repo) = kind, !preferLocal || path == repo { return repo }
        return path
    }

    /// Why `format`'s trainer cannot use this model as written, nil when it can.
    public func problem(for format: TrainingExport.Format) -> String? {
        switch (kind, format) {
        case (.gguf, .mlxLM):
            return "mlx_lm cannot train on a GGUF file (\(path)); set model: in config.yaml to the Hugging Face "
                + "repository (safetensors) of the same model, " + sourceHint
        case (.gguf, .trl):
            return "TRL loads models with transformers from safetensors and cannot train on a GGUF file (\(path)); "
                + "set model_name_or_path: in config.yaml to the Hugging Face repository of the same model, "
                + sourceHint
        case (_, .trl) where mlxQuantized:
            return "\(path) holds MLX-quantized weights, which transformers cannot load; set model_name_or_path: "
                + "in config.yaml to the unquantized Hugging Face repository of the same model"
        default:
            return nil
        }
    }

    /// The repository to name instead of a GGUF file: the one its metadata suggests, else a pattern.
    private var sourceHint: String {
        ggufSource.map { "likely \($0) (from the file's metadata)" } ?? "e.g. ORG/NAME"
    }

    /// A reminder for a model given as a local folder: the other machine needs it at that path.
    public var localNote: String? {
        guard kind == .folder else { return nil }
        return "the model is a local folder (\(path)); copy it to the training machine at the same path or "
            + "replace it with its Hugging Face repository id"
    }
}
