import LEMEngine

extension SamplingSettings {
    /// The engine's sampler settings for these run settings (`maxTokens` goes on the request).
    public var engineParameters: SamplingParameters {
        SamplingParameters(temperature: Float(temperature), topK: topK, topP: Float(topP), minP: Float(minP),
                           repetitionPenalty: Float(repetitionPenalty), seed: seed)
    }
}
