import Foundation
import LEMEngine

// Naive forward passes, generic over the scalar type: the oracles the backward kernels are
// checked against (central finite differences in Float64 differentiate exactly these). They
// follow the reference semantics of transformers / mlx_lm; the engine's fast Float forwards
// must agree with them, and the whole-model backward recomputes activations with them.
//
// Legend: N rows (tokens, possibly several sequences), C channels, T tokens of one sequence,
// H query heads, K key/value heads, D head dim, F feed-forward size, V vocabulary,
// I linear input size, O linear output size, R LoRA rank.

extension Kernels {
    /// RMS normalisation of each row: `y = x / √(mean(x²) + eps) · (offset + w)`.
    ///
    /// `weightOffset` is 1 for Gemma, whose checkpoints store `w` and multiply by `1 + w`, and 0
    /// for Llama / Qwen2. Gemma 3's per-head q/k norms are this kernel with rows = T·H, C = D.
    public static func rmsNormForward<T: TrainingScalar>(
        _ x: UnsafePointer<T>,  // (N, C)
        weight: UnsafePointer<T>,  // (C)
        weightOffset: T, eps: T, rows: Int, columns: Int,
        into y: UnsafeMutablePointer<T>  // (N, C)
    ) {
        for r in 0..<rows {
            let xr = x + r * columns
            let yr = y + r * columns
            var sumSquares: T = 0
            for c in 0..<columns { sumSquares += xr[c] * xr[c] }
            let inverseRMS = 1 / (sumSquares / T(columns) + eps).squareRoot()
            for c in 0..<columns { yr[c] = xr[c] * inverseRMS * (weightOffset + weight[c]) }
        }
    }

    /// Rotary position embedding in the NEOX (half-split) layout, in place.
    ///
    /// Dimension `i < D/2` pairs with `i + D/2`; the pair rotates by angle
    /// `position · inverseFrequencies[i]`. This is transformers' `rotate_half` convention, which
    /// every supported architecture uses in Hugging Face layout.
    public static func ropeForward<T: TrainingScalar>(
        _ x: UnsafeMutablePointer<T>,  // (T, heads, D)
        tokens: Int, heads: Int, headDim: Int,
        positions: UnsafePointer<Int>,  // (T)
        inverseFrequencies: UnsafePointer<Double>  // (D/2)
    ) {
        rotate(
            x, tokens: tokens, heads: heads, headDim: headDim, positions: positions,
            inverseFrequencies: inverseFrequencies, direction: 1)
    }

    /// The plain RoPE inverse frequencies `base^(-2i/D)` for `i < D/2` (no long-context scaling).
    public static func ropeInverseFrequencies(headDim: Int, base: Double) -> [Double] {
        (0..<headDim / 2).map { i in 1 / pow(base, Double(2 * i) / Double(headDim)) }
    }

    /// Rotates each (i, i + D/2) pair by `direction · angle`; direction −1 is the inverse rotation.
    static func rotate<T: TrainingScalar>(
        _ x: UnsafeMutablePointer<T>, tokens: Int, heads: Int, headDim: Int,
        positions: UnsafePointer<Int>, inverseFrequencies: UnsafePointer<Double>, direction: Double
    ) {
        let half = headDim / 2
        for t in 0..<tokens {
            for i in 0..<half {
                let angle = Double(positions[t]) * inverseFrequencies[i]
                let c = T(cos(angle))
                let s = T(direction * sin(angle))
                for h in 0..<heads {
                    let row = x + (t * heads + h) * headDim
                    let a = row[i]
                    let b = row[i + half]
                    row[i] = a * c - b * s
                    row[i + half] = a * s + b * c
                }
            }
        }
    }

    /// Causal scaled-dot-product attention over one sequence, with grouped key/value heads and an
    /// optional sliding window; also returns the attention probabilities the backward needs.
    ///
    /// Query `i` sees key `j` when `j ≤ i` and, with a window `W`, `i − j < W` (transformers'
    /// `sliding_window_overlay`, mlx_lm's `create_causal_mask`). Query head `h` reads key/value
    /// head `h / (H / K)`. Scores are `scale · q·k`.
    public static func attentionForward<T: TrainingScalar>(
        query q: UnsafePointer<T>,  // (T, H, D)
        key k: UnsafePointer<T>,  // (T, K, D)
        value v: UnsafePointer<T>,  // (T, K, D)
        tokens: Int, heads: Int, kvHeads: Int, headDim: Int, scale: T, window: Int?,
        output out: UnsafeMutablePointer<T>,  // (T, H, D)
        probabilities p: UnsafeMutablePointer<T>  // (H, T, T), zero outside the mask
    ) {
        let group = heads / kvHeads
        for h in 0..<heads {
            let kvh = h / group
            for i in 0..<tokens {
                let probs = p + (h * tokens + i) * tokens
                let qi = q + (i * heads + h) * headDim
                let first = window.map { max(0, i - $0 + 1) } ?? 0
                var maxScore = -T.infinity
                for j in 0..<tokens {
                    guard j >= first && j <= i else {
                        probs[j] = 0
                        continue
                    }
                    let kj = k + (j * kvHeads + kvh) * headDim
                    var dot: T = 0
                    for d in 0..<headDim { dot += qi[d] * kj[d] }
                    probs[j] = dot * scale
                    maxScore = max(maxScore, probs[j])
                }
                var total: T = 0
                for j in first...i {
                    probs[j] = T.exponential(probs[j] - maxScore)
                    total += probs[j]
                }
                let oi = out + (i * heads + h) * headDim
                for d in 0..<headDim { oi[d] = 0 }
                for j in first...i {
                    probs[j] /= total
                    let vj = v + (j * kvHeads + kvh) * headDim
                    for d in 0..<headDim { oi[d] += probs[j] * vj[d] }
                }
            }
        }
    }

    /// Applies an activation elementwise.
    public static func activationForward<T: TrainingScalar>(
        _ activation: Activation,
        _ x: UnsafePointer<T>,  // (n)
        count n: Int,
        into y: UnsafeMutablePointer<T>  // (n)
    ) {
        for i in 0..<n { y[i] = activate(activation, x[i]).value }
    }

    /// The gated feed-forward product `h = act(gate) · up`, elementwise.
    public static func gatedActivationForward<T: TrainingScalar>(
        _ activation: Activation,
        gate: UnsafePointer<T>,  // (N, F)
        up: UnsafePointer<T>,  // (N, F)
        count n: Int,
        into h: UnsafeMutablePointer<T>  // (N, F)
    ) {
        for i in 0..<n { h[i] = activate(activation, gate[i]).value * up[i] }
    }

    /// An activation's value and derivative at `x`.
    @inline(__always)
    static func activate<T: TrainingScalar>(_ activation: Activation, _ x: T) -> (value: T, derivative: T) {
        switch activation {
        case .geluTanh:
            // d/dx 0.5x(1 + tanh u), u = c(x + 0.044715x³): 0.5(1 + t) + 0.5x(1 − t²)·c(1 + 3·0.044715x²)
            let c = T(0.7978845608028654)  // √(2/π)
            let u = c * (x + T(0.044715) * x * x * x)
            let t = T.hyperbolicTangent(u)
            let value = T(0.5) * x * (1 + t)
            let derivative = T(0.5) * (1 + t) + T(0.5) * x * (1 - t * t) * c * (1 + T(3 * 0.044715) * x * x)
            return (value, derivative)
        case .silu:
            let sigma = 1 / (1 + T.exponential(-x))
            return (x * sigma, sigma * (1 + x * (1 - sigma)))
        }
    }

    /// A linear layer in Hugging Face layout: `y = x Wᵀ + b`.
    public static func linearForward<T: TrainingScalar>(
        _ x: UnsafePointer<T>,  // (N, I)
        weight w: UnsafePointer<T>,  // (O, I)
        bias: UnsafePointer<T>?,  // (O)
        rows: Int, inputs: Int, outputs: Int,
        into y: UnsafeMutablePointer<T>  // (N, O)
    ) {
        for n in 0..<rows {
            for o in 0..<outputs {
                var sum: T = bias?[o] ?? 0
                for i in 0..<inputs { sum += x[n * inputs + i] * w[o * inputs + i] }
                y[n * outputs + o] = sum
            }
        }
    }

    /// A LoRA-adapted linear layer as mlx_lm computes it:
    /// `y = x Wᵀ + b + scale · ((x ⊙ mask) A) B`, with `A` (I, R) and `B` (R, O) as mlx_lm stores
    /// `lora_a` / `lora_b`.
    ///
    /// `dropoutMask` holds 0 or 1/(1−p) per input element (inverted dropout, applied only on the
    /// low-rank path as mlx_lm's `LoRALinear` does); nil means no dropout. `xa` receives
    /// `(x ⊙ mask) A`, which the backward needs.
    public static func loraLinearForward<T: TrainingScalar>(
        _ x: UnsafePointer<T>,  // (N, I)
        weight w: UnsafePointer<T>,  // (O, I)
        bias: UnsafePointer<T>?,  // (O)
        loraA a: UnsafePointer<T>,  // (I, R)
        loraB b: UnsafePointer<T>,  // (R, O)
        scale: T,
        dropoutMask: UnsafePointer<T>?,  // (N, I)
        rows: Int, inputs: Int, outputs: Int, rank: Int,
        xa: UnsafeMutablePointer<T>,  // (N, R)
        into y: UnsafeMutablePointer<T>  // (N, O)
    ) {
        linearForward(x, weight: w, bias: bias, rows: rows, inputs: inputs, outputs: outputs, into: y)
        for n in 0..<rows {
            for r in 0..<rank {
                var sum: T = 0
                for i in 0..<inputs {
                    let xi = x[n * inputs + i] * (dropoutMask?[n * inputs + i] ?? 1)
                    sum += xi * a[i * rank + r]
                }
                xa[n * rank + r] = sum
            }
            for o in 0..<outputs {
                var sum: T = 0
                for r in 0..<rank { sum += xa[n * rank + r] * b[r * outputs + o] }
                y[n * outputs + o] += scale * sum
            }
        }
    }

    /// Looks up token embeddings and multiplies them by `scale` (√C for Gemma, 1 otherwise).
    public static func embeddingForward<T: TrainingScalar>(
        tokens: UnsafePointer<Int>,  // (N)
        table: UnsafePointer<T>,  // (V, C)
        scale: T, rows: Int, columns: Int,
        into y: UnsafeMutablePointer<T>  // (N, C)
    ) {
        for n in 0..<rows {
            let source = table + tokens[n] * columns
            for c in 0..<columns { y[n * columns + c] = source[c] * scale }
        }
    }
}
