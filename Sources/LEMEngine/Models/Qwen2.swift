import LEMFormats

/// Qwen2 as transformers' `Qwen2Model` computes it: the Llama decoder with biases on the q, k
/// and v projections (always present, whatever `attention_bias` says), SiLU gated MLP, untied or
/// tied output head, and sliding-window layers only where `layer_types` asks for them.
public enum Qwen2 {
    /// Builds a Qwen2 model from HF-named tensors.
    public static func load(config: ModelConfig, loader: WeightLoader) throws -> any LanguageModel {
        try Llama.load(config: config, loader: loader, attentionBias: true)
    }
}
