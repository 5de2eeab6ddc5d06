import Foundation
import LEMFormats

extension ModelFactory {
    /// Builds a model with `adapter` applied unfused to its linear layers, the adapter's own
    /// scale multiplied by `adapterScale` (1 = as trained, 0 = the base model for LoRA).
    ///
    /// Every adapter module must match a linear layer of the model in name and shape, else a
    /// `FormatError` names the adapter file and key. The model runs with `options`.
    public static func makeModel(
        config: ModelConfig, tensors: [String: any WeightTensor], source: String,
        adapter: InferenceAdapter?, adapterScale: Float = 1, options: EngineOptions = EngineOptions()
    ) throws -> any LanguageModel {
        let loader = WeightLoader(
            tensors: tensors, source: source, adapter: adapter, strength: adapterScale, options: options)
        let model = try makeModel(config: config, loader: loader)
        try loader.checkAdapterFullyUsed()
        return model
    }

    /// Builds the model of an opened checkpoint with `adapter` applied unfused (see above).
    public static func makeModel(
        _ files: ModelFiles, adapter: InferenceAdapter?, adapterScale: Float = 1,
        options: EngineOptions = EngineOptions()
    ) throws -> any LanguageModel {
        try makeModel(
            config: files.config, tensors: files.tensors, source: files.url.path, adapter: adapter,
            adapterScale: adapterScale, options: options)
    }

    /// Opens a model directory or `.gguf` file and an adapter folder, and builds the adapted model.
    public static func load(
        _ url: URL, adapterFolder: URL?, adapterScale: Float = 1, options: EngineOptions = EngineOptions()
    ) throws -> any LanguageModel {
        let adapter = try adapterFolder.map { try InferenceAdapter(folder: $0) }
        return try makeModel(ModelFiles.open(url), adapter: adapter, adapterScale: adapterScale, options: options)
    }
}
