import LEMFormats

/// The gated feed-forward sub-block of every supported architecture:
/// `down(act(gate(x)) ⊙ up(x))` (GELU-tanh for Gemma 3, SiLU for Llama and Qwen2).
///
/// For a single token gate/up run as one pool run (`FusedLinears`). Legend: T tokens, C hidden,
/// F feed-forward size.
struct GatedMLP: Sendable {
    let gate, up, down: Linear
    /// gate/up as one pool run for a single token (nil: called one by one).
    let gateUp: FusedLinears?
    let activation: Activation

    /// Loads layer `index`'s `mlp.{gate,up,down}_proj`.
    init(_ loader: WeightLoader, layer index: Int, config: ModelConfig, activation: Activation) throws {
        let p = "model.layers.\(index).mlp."
        let c = config.hiddenSize
        let f = config.intermediateSize
        gate = try loader.linear(p + "gate_proj", out: f, in: c)
        up = try loader.linear(p + "up_proj", out: f, in: c)
        down = try loader.linear(p + "down_proj", out: c, in: f)
        gateUp = FusedLinears.forDecode([gate, up], options: loader.options)
        self.activation = activation
    }

    /// The config's activation; an unsupported one is an error naming `source`.
    static func activation(_ config: ModelConfig, source: String) throws -> Activation {
        guard let activation = Activation(configName: config.hiddenActivation) else {
            throw ModelError.unsupportedActivation(config.hiddenActivation, source: source)
        }
        return activation
    }

    /// Applies the block to `tokens` rows of `x`, working in `workspace` (gate, up, tile);
    /// `decode`: the rows are independent single-token steps (`Linear`).
    func callAsFunction(
        _ x: UnsafePointer<Float>,  // (T, C)
        tokens t: Int, workspace ws: Workspace,
        out: UnsafeMutablePointer<Float>,  // (T, C)
        decode: Bool = false
    ) {
        let g = ws.gate.pointer
        let u = ws.up.pointer  // (T, F)
        let tile = ws.tile.pointer
        if let gateUp {
            gateUp(x, tokens: t, tile: tile, g, u, decode: decode)
        } else {
            gate(x, tokens: t, tile: tile, out: g, decode: decode)
            up(x, tokens: t, tile: tile, out: u, decode: decode)
        }
        Kernels.gatedActivation(gate: g, up: u, count: t * gate.outFeatures, activation: activation)
        down(g, tokens: t, tile: tile, out: out, decode: decode)
    }
}
