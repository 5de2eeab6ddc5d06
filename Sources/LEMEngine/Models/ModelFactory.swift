import Foundation
import LEMFormats

/// Builds the right `LanguageModel` for a checkpoint from its `model_type`.
public enum ModelFactory {
    /// The `model_type` values this engine can run.
    public static let supportedTypes = ["gemma3_text", "gemma3", "llama", "mistral", "qwen2", "gpt_oss"]

    /// Builds a model from a config and HF-named tensors, to run with `options`; unknown
    /// `model_type` → an error naming it.
    public static func makeModel(
        config: ModelConfig, tensors: [String: any WeightTensor], source: String,
        options: EngineOptions = EngineOptions()
    ) throws -> any LanguageModel {
        try makeModel(config: config, loader: WeightLoader(tensors: tensors, source: source, options: options))
    }

    /// Builds a model whose linear layers are made by `loader` (which may carry an adapter), with
    /// the loader's options.
    static func makeModel(config: ModelConfig, loader: WeightLoader) throws -> any LanguageModel {
        if supportedTypes.contains(config.modelType) {
            // Layers are built in a loop sized by the config: hold it to the weights first.
            let present = ModelConfig.layerCount(in: loader.tensors.keys)
            guard config.numHiddenLayers <= present else {
                throw ModelError.badConfig(
                    "num_hidden_layers (block_count) is \(config.numHiddenLayers) but the weights hold \(present) layers",
                    source: loader.source)
            }
        }
        switch config.modelType {
        case "gemma3_text", "gemma3": return try Gemma3(config: config, loader: loader)
        case "llama", "mistral": return try Llama.load(config: config, loader: loader)
        case "qwen2": return try Qwen2.load(config: config, loader: loader)
        case "gpt_oss": return try GptOss.load(config: config, loader: loader)
        default: throw ModelError.unsupportedArchitecture(config.modelType, source: loader.source)
        }
    }

    /// Rejects configs whose sizes cannot describe a working transformer.
    static func checkShapes(_ config: ModelConfig, source: String) throws {
        func require(_ ok: Bool, _ message: String) throws {
            if !ok { throw ModelError.badConfig(message, source: source) }
        }
        try require(
            config.hiddenSize > 0 && config.intermediateSize > 0, "hidden and intermediate sizes must be positive")
        // The readers check these too; a config built in code must not overflow `heads · headDim`.
        let sizes = [
            config.hiddenSize, config.intermediateSize, config.numAttentionHeads, config.numKeyValueHeads,
            config.headDim, config.vocabSize
        ]
        try require(
            sizes.allSatisfy { $0 <= ModelConfig.maxDimension } && config.numHiddenLayers <= ModelConfig.maxLayers,
            "sizes must be at most \(ModelConfig.maxDimension) and layers at most \(ModelConfig.maxLayers)")
        try require(config.numHiddenLayers > 0, "num_hidden_layers must be positive")
        try require(config.numAttentionHeads > 0 && config.numKeyValueHeads > 0, "head counts must be positive")
        try require(
            config.numAttentionHeads % config.numKeyValueHeads == 0,
            "num_attention_heads \(config.numAttentionHeads) is not a multiple of num_key_value_heads \(config.numKeyValueHeads)"
        )
        try require(
            config.headDim > 0 && config.headDim % 2 == 0, "head_dim \(config.headDim) must be positive and even")
        try require(config.vocabSize > 0, "vocab_size must be positive")
        try require(
            config.layerTypes.count == config.numHiddenLayers,
            "layer_types has \(config.layerTypes.count) entries for \(config.numHiddenLayers) layers")
        try require(config.maxPositionEmbeddings > 0, "max_position_embeddings must be positive")
    }
}

extension ModelFactory {
    /// Builds the model of an opened checkpoint (any format `ModelFiles` reads) for `options`.
    public static func makeModel(
        _ files: ModelFiles, options: EngineOptions = EngineOptions()
    ) throws -> any LanguageModel {
        try makeModel(config: files.config, tensors: files.tensors, source: files.url.path, options: options)
    }

    /// Opens a model directory or `.gguf` file and builds its model for `options`.
    public static func load(_ url: URL, options: EngineOptions = EngineOptions()) throws -> any LanguageModel {
        try makeModel(ModelFiles.open(url), options: options)
    }
}
