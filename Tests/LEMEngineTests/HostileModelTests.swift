import Foundation
import LEMFormats
import Testing

@testable import LEMEngine

/// A model is only built when the weights back the configuration's layer count.
@Suite struct HostileModelTests {
    @Test("a layer count past the layers the weights hold is refused before the layers are built")
    func layerCountAgainstWeights() throws {
        var config = RandomModels.config("llama", sliding: false)
        let tensors = RandomModels.tensors(for: config, seed: 3)
        config.numHiddenLayers = 40_000
        config.layerTypes = Array(repeating: .fullAttention, count: 40_000)
        do {
            _ = try ModelFactory.makeModel(config: config, tensors: tensors, source: "m.gguf")
            Issue.record("expected an error")
        } catch let error as ModelError {
            #expect("\(error)".hasPrefix("m.gguf: num_hidden_layers (block_count) is 40000 but the weights hold"))
        }
    }
}
