import Foundation

/// Placeholder until MLX quantized tensors land: refuses quantized checkpoints with a clear error.
enum MLXQuantized {
    static func wrap(
        _ raw: [String: SafetensorsTensor], config: ModelConfig, origin: [String: URL]
    ) throws -> [String: any WeightTensor] {
        let name = raw.keys.sorted().first { $0.hasSuffix(".scales") } ?? "?"
        throw FormatError(origin[name] ?? URL(fileURLWithPath: "?"), tensor: name, "MLX quantized weights are not supported yet")
    }
}
