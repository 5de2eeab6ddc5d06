import Foundation

extension Kernels {
    /// The tanh approximation of GELU (`gelu_pytorch_tanh`):
    /// `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`.
    @inline(__always)
    public static func geluTanh(_ x: Float) -> Float {
        let k: Float = 0.797_884_56  // sqrt(2 / pi)
        return 0.5 * x * (1 + tanhf(k * (x + 0.044715 * x * x * x)))
    }

    /// SiLU (swish): `x * sigmoid(x)`.
    @inline(__always)
    public static func silu(_ x: Float) -> Float {
        x / (1 + expf(-x))
    }

    /// Soft-caps `x` to `(-cap, cap)`: `tanh(x / cap) * cap` (Gemma logit softcapping).
    @inline(__always)
    public static func softcap(_ x: Float, cap: Float) -> Float {
        tanhf(x / cap) * cap
    }

    /// The gated MLP activation in place: `gate[i] = act(gate[i]) * up[i]` for `count` elements,
    /// eight at a time with `exp8` (tanh u = 1 − 2 / (e^{2u} + 1), sigmoid = 1 / (1 + e^{−x})),
    /// the tail through the libm forms. `gatedActivationNaive` is its oracle.
    ///
    /// `activation` is the config's `hidden_act`: `gelu_pytorch_tanh` / `gelu_tanh` (Gemma) or
    /// `silu` (Llama, Qwen2). The libm loop was 5–6 % of a 1B model's decode, all of it on one
    /// thread while the other waited.
    public static func gatedActivation(
        gate: UnsafeMutablePointer<Float>,  // (T, F)
        up: UnsafePointer<Float>,  // (T, F)
        count: Int, activation: Activation
    ) {
        let whole = count / 8 * 8
        switch activation {
        case .geluTanh:
            let c: Float = 0.797_884_56  // sqrt(2 / pi)
            for i in stride(from: 0, to: whole, by: 8) {
                let x = load8(gate, i)
                let u = c * (x + 0.044715 * x * x * x)
                let t = 1 - 2 / (exp8(2 * u) + 1)
                store8(0.5 * x * (1 + t) * load8(up, i), gate, i)
            }
            for i in whole..<count { gate[i] = geluTanh(gate[i]) * up[i] }
        case .silu:
            for i in stride(from: 0, to: whole, by: 8) {
                let x = load8(gate, i)
                store8(x / (1 + exp8(-x)) * load8(up, i), gate, i)
            }
            for i in whole..<count { gate[i] = silu(gate[i]) * up[i] }
        }
    }

    /// GPT-OSS's clamped SwiGLU in place, as transformers' `GptOssExperts._apply_gate`:
    /// `g = min(gate, limit)`, `u = clamp(up, −limit, limit)`, `gate = (u + 1) · g · sigmoid(alpha · g)`.
    ///
    /// A plain libm loop: it is its own oracle (the experts' matrices dominate the cost).
    public static func clampedSwiGLU(
        gate: UnsafeMutablePointer<Float>,  // (T, F)
        up: UnsafePointer<Float>,  // (T, F)
        count: Int, alpha: Float, limit: Float
    ) {
        for i in 0..<count {
            let g = min(gate[i], limit)
            let u = min(max(up[i], -limit), limit)
            let glu = g * (1 / (1 + expf(-(g * alpha))))
            gate[i] = (u + 1) * glu
        }
    }

    /// `gatedActivation` through libm one element at a time (the oracle).
    public static func gatedActivationNaive(
        gate: UnsafeMutablePointer<Float>,  // (T, F)
        up: UnsafePointer<Float>,  // (T, F)
        count: Int, activation: Activation
    ) {
        switch activation {
        case .geluTanh:
            for i in 0..<count { gate[i] = geluTanh(gate[i]) * up[i] }
        case .silu:
            for i in 0..<count { gate[i] = silu(gate[i]) * up[i] }
        }
    }

    /// `e^x` for eight floats: Cody–Waite reduction by ln 2 and a degree-6 polynomial (Cephes'
    /// `expf` coefficients), within ~2 ulp on [−87, 88]; inputs are clamped to that range. The
    /// rounding of x·log₂e to an integer and its conversion use the 1.5·2²³ shifter trick (the
    /// generic SIMD rounding and int conversions compile to per-lane library calls).
    @inlinable @inline(__always)
    public static func exp8(_ input: SIMD8<Float>) -> SIMD8<Float> {
        let low = SIMD8<Float>(repeating: -87.3)
        let high = SIMD8<Float>(repeating: 88.3)
        var x = input.replacing(with: low, where: input .< low)
        x.replace(with: high, where: x .> high)
        let shifter = SIMD8<Float>(repeating: 12_582_912)  // 1.5·2²³: adding it rounds to an integer
        let shifted = x * 1.442_695_04 + shifter
        let n = shifted - shifter  // round(x·log₂e)
        var r = x - n * 0.693_359_375
        r = r + n * 2.121_944_4e-4
        var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 0.166_666_655
        p = p * r + 0.500_000_01
        let y = p * r * r + r + 1
        let integer = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000  // n as an integer
        return y * unsafeBitCast((integer &+ 127) &<< 23, to: SIMD8<Float>.self)
    }

    /// Eight floats from `p + i` (no alignment needed).
    @inlinable @inline(__always)
    public static func load8(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// Stores eight floats at `p + i` (no alignment needed).
    @inlinable @inline(__always)
    public static func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
        UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD8<Float>.self)
    }

    /// Numerically stable softmax of `x[0 ..< count]` in place (max subtracted first).
    public static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
        guard count > 0 else { return }
        var maxValue = -Float.infinity
        for i in 0..<count { maxValue = max(maxValue, x[i]) }
        var sum: Float = 0
        for i in 0..<count {
            let e = expf(x[i] - maxValue)
            x[i] = e
            sum += e
        }
        let inv = 1 / sum
        for i in 0..<count { x[i] *= inv }
    }

    /// Array convenience for `softmax`.
    public static func softmax(_ x: [Float]) -> [Float] {
        var out = x
        out.withUnsafeMutableBufferPointer { softmax($0.baseAddress!, count: $0.count) }
        return out
    }
}

/// The activation of a gated feed-forward block, `act(gate) * up`: the one list the engine's
/// architectures and the trainer share.
public enum Activation: String, Sendable, CaseIterable {
    /// transformers `gelu_pytorch_tanh` (Gemma): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
    case geluTanh = "gelu_pytorch_tanh"
    /// `silu` (Llama, Qwen2): x·σ(x).
    case silu

    /// Maps a config `hidden_act` name to an activation, nil when unsupported.
    public init?(configName: String) {
        switch configName {
        case "gelu_pytorch_tanh", "gelu_tanh", "gelu_new", "gelu_fast": self = .geluTanh
        case "silu", "swish": self = .silu
        default: return nil
        }
    }
}
