import Foundation
import LEMFormats

/// GPT-OSS's mixture-of-experts feed-forward block, as transformers' `GptOssMLP` computes it.
///
/// `router` (a biased linear layer) scores the E experts for each token; the top k are kept and
/// their scores softmaxed among themselves; each chosen expert computes
/// `down(clampedSwiGLU(gate(x), up(x)))` with biases, and the token's output is the weighted sum
/// in increasing expert order. Tokens routed to one expert are gathered and run through it
/// together. Expert matrices are row ranges of the split `[E, out, in]` tensors `GptOssExperts`
/// presents (`mlp.experts.{gate,up,down}_proj.weight`, `.bias`), in their stored encoding.
/// Legend: T tokens, C hidden, E experts, F expert width, k experts per token.
struct MixtureOfExperts: Sendable {
    struct Expert: Sendable {
        let gate, up, down: Linear  // [F, C], [F, C], [C, F]
        /// gate/up as one pool run for a single token (nil: called one by one).
        let gateUp: FusedLinears?
    }
    /// `mlp.router` [E, C] with bias (E).
    let router: Linear
    let experts: [Expert]
    /// Experts per token (k).
    let perToken: Int
    /// The SwiGLU's sigmoid gain and clamp.
    let alpha, limit: Float

    /// Loads layer `index`'s router and experts; the config must have `experts`.
    init(_ loader: WeightLoader, layer index: Int, config: ModelConfig) throws {
        guard let moe = config.experts else {
            throw ModelError.badConfig(
                "num_local_experts is missing (a mixture-of-experts model)", source: loader.source)
        }
        let p = "model.layers.\(index).mlp."
        let c = config.hiddenSize
        let f = config.intermediateSize
        let e = moe.count
        router = try loader.linear(p + "router", out: e, in: c, bias: true)
        func matrices(_ name: String, out: Int, in k: Int) throws -> [Linear] {
            let weight = try loader.tensor(p + "experts.\(name).weight", shape: [e, out, k])
            let bias = try loader.tensor(p + "experts.\(name).bias", shape: [e, out]).decodeAll()
            return (0..<e).map { x in
                Linear(
                    weight: RowSliceTensor(weight, first: x * out, count: out, name: "\(p)experts.\(x).\(name).weight"),
                    bias: Array(bias[x * out..<(x + 1) * out]), options: loader.options)
            }
        }
        let gates = try matrices("gate_proj", out: f, in: c)
        let ups = try matrices("up_proj", out: f, in: c)
        let downs = try matrices("down_proj", out: c, in: f)
        experts = (0..<e).map {
            Expert(
                gate: gates[$0], up: ups[$0], down: downs[$0],
                gateUp: FusedLinears.forDecode([gates[$0], ups[$0]], options: loader.options))
        }
        perToken = moe.perToken
        alpha = Float(moe.swigluAlpha)
        limit = Float(moe.swigluLimit)
    }

    /// Applies the block to `tokens` rows of `x`, working in `workspace` (router logits, routes,
    /// gathered rows, gate, up, tile); `decode`: the rows are independent single-token steps.
    func callAsFunction(
        _ x: UnsafePointer<Float>,  // (T, C)
        tokens t: Int, workspace ws: Workspace,
        out: UnsafeMutablePointer<Float>,  // (T, C)
        decode: Bool = false
    ) {
        let c = router.inFeatures
        let e = experts.count
        let k = perToken
        let tile = ws.tile.pointer
        let logits = ws.routerLogits.pointer  // (T, E)
        router(x, tokens: t, tile: tile, out: logits, decode: decode)
        Self.route(logits: logits, tokens: t, experts: e, perToken: k, choice: &ws.routeExpert, weight: &ws.routeWeight)
        out.update(repeating: 0, count: t * c)
        let gathered = ws.expertInput.pointer  // (n, C)
        let result = ws.expertOutput.pointer  // (n, C)
        let g = ws.gate.pointer
        let u = ws.up.pointer  // (n, F)
        for (index, expert) in experts.enumerated() {
            ws.expertRows.removeAll(keepingCapacity: true)
            for r in 0..<t * k where ws.routeExpert[r] == index { ws.expertRows.append(r) }
            let n = ws.expertRows.count
            guard n > 0 else { continue }
            for (i, r) in ws.expertRows.enumerated() { (gathered + i * c).update(from: x + r / k * c, count: c) }
            if let gateUp = expert.gateUp {
                gateUp(gathered, tokens: n, tile: tile, g, u, decode: decode)
            } else {
                expert.gate(gathered, tokens: n, tile: tile, out: g, decode: decode)
                expert.up(gathered, tokens: n, tile: tile, out: u, decode: decode)
            }
            Kernels.clampedSwiGLU(gate: g, up: u, count: n * expert.gate.outFeatures, alpha: alpha, limit: limit)
            expert.down(g, tokens: n, tile: tile, out: result, decode: decode)
            for (i, r) in ws.expertRows.enumerated() {
                let w = ws.routeWeight[r]
                let o = out + r / k * c
                let y = result + i * c
                for j in 0..<c { o[j] += y[j] * w }
            }
        }
    }

    /// Each token's `perToken` best experts by router logit, best first (ties: the lower index),
    /// and their softmax weights among themselves (transformers `GptOssTopKRouter`): row `r` of
    /// `choice`/`weight` is slot `r % k` of token `r / k`.
    static func route(
        logits: UnsafePointer<Float>,  // (T, E)
        tokens t: Int, experts e: Int, perToken k: Int, choice: inout [Int], weight: inout [Float]  // (T·k)
    ) {
        choice.removeAll(keepingCapacity: true)
        weight.removeAll(keepingCapacity: true)
        for token in 0..<t {
            let row = logits + token * e
            let first = choice.count
            for _ in 0..<k {
                var best = -1
                for x in 0..<e where !choice[first...].contains(x) && (best < 0 || row[x] > row[best]) { best = x }
                choice.append(best)
            }
            let top = row[choice[first]]
            var sum: Float = 0
            for s in 0..<k {
                let v = expf(row[choice[first + s]] - top)
                weight.append(v)
                sum += v
            }
            for s in 0..<k { weight[first + s] /= sum }
        }
    }
}
