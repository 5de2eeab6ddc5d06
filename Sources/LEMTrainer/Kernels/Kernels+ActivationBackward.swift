import LEMEngine

// Backward passes of the feed-forward nonlinearities. Gradients are added into their outputs.

extension Kernels {
    /// Gradient of `activationForward`: adds `act'(x)·dy` into `dx`.
    public static func activationBackward<T: TrainingScalar>(
        _ activation: Activation,
        _ dy: UnsafePointer<T>,  // (n)
        input x: UnsafePointer<T>,  // (n)
        count n: Int,
        dx: UnsafeMutablePointer<T>  // (n), added into
    ) {
        for i in 0..<n { dx[i] += activate(activation, x[i]).derivative * dy[i] }
    }

    /// Gradients of `gatedActivationForward` (`h = act(gate)·up`):
    /// `dgate += dh·up·act'(gate)`, `dup += dh·act(gate)`.
    public static func gatedActivationBackward<T: TrainingScalar>(
        _ activation: Activation,
        _ dh: UnsafePointer<T>,  // (N, F)
        gate: UnsafePointer<T>,  // (N, F)
        up: UnsafePointer<T>,  // (N, F)
        count n: Int,
        dGate: UnsafeMutablePointer<T>,  // (N, F), added into
        dUp: UnsafeMutablePointer<T>  // (N, F), added into
    ) {
        for i in 0..<n {
            let (value, derivative) = activate(activation, gate[i])
            dGate[i] += dh[i] * up[i] * derivative
            dUp[i] += dh[i] * value
        }
    }
}
