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

    /// The gated MLP activation in place: `gate[i] = act(gate[i]) * up[i]` for `count` elements.
    ///
    /// `activation` is the config's `hidden_act`: `gelu_pytorch_tanh` / `gelu_tanh` (Gemma) or
    /// `silu` (Llama, Qwen2).
    public static func gatedActivation(
        gate: UnsafeMutablePointer<Float>,  // (T, F)
        up: UnsafePointer<Float>,  // (T, F)
        count: Int, activation: Activation
    ) {
        switch activation {
        case .geluTanh:
            for i in 0 ..< count { gate[i] = geluTanh(gate[i]) * up[i] }
        case .silu:
            for i in 0 ..< count { gate[i] = silu(gate[i]) * up[i] }
        }
    }

    /// Numerically stable softmax of `x[0 ..< count]` in place (max subtracted first).
    public static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
        guard count > 0 else { return }
        var maxValue = -Float.infinity
        for i in 0 ..< count { maxValue = max(maxValue, x[i]) }
        var sum: Float = 0
        for i in 0 ..< count {
            let e = expf(x[i] - maxValue)
            x[i] = e
            sum += e
        }
        let inv = 1 / sum
        for i in 0 ..< count { x[i] *= inv }
    }

    /// Array convenience for `softmax`.
    public static func softmax(_ x: [Float]) -> [Float] {
        var out = x
        out.withUnsafeMutableBufferPointer { softmax($0.baseAddress!, count: $0.count) }
        return out
    }
}

/// The MLP activation functions the supported architectures use.
public enum Activation: String, Sendable {
    case geluTanh
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
