import Foundation

/// An optimizer that updates a list of parameter tensors from their gradients, with mlx's
/// semantics (mlx.optimizers), so runs match mlx_lm step for step.
///
/// Parameters and gradients are flat Float buffers, paired by index; the optimizer keeps its own
/// state per index, created on the first update. The step counter counts updates, as mlx's
/// `optimizer.step` does, and the learning rate passed in is the schedule's value for the step
/// *before* the increment (`schedule(step)` with the counter starting at 0).
public protocol Optimizer: Sendable {
    /// Updates completed so far.
    var step: Int { get }
    /// Applies one update to `parameters` with `gradients` at learning rate `learningRate`.
    mutating func update(parameters: inout [[Float]], gradients: [[Float]], learningRate: Float)
}

/// mlx's `Adam`: `m = β₁m + (1−β₁)g`, `v = β₂v + (1−β₂)g²`, `w −= lr·m/(√v + ε)`.
///
/// No bias correction by default (mlx's default, unlike PyTorch): the first step is
/// ≈ 3.16·lr·sign(g). With `biasCorrection`, `w −= lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε)`.
/// Arithmetic is in Float with the constants rounded to Float, as mlx does on float32 arrays.
public struct Adam: Optimizer {
    // mlx's defaults: betas (0.9, 0.999), eps 1e-8, no bias correction.
    public var beta1 = 0.9
    public var beta2 = 0.999
    public var eps = 1e-8
    public var biasCorrection = false
    public private(set) var step = 0
    /// First and second moments, one buffer per parameter.
    public private(set) var m: [[Float]] = []
    public private(set) var v: [[Float]] = []

    /// Applies one Adam update.
    public mutating func update(parameters: inout [[Float]], gradients: [[Float]], learningRate: Float) {
        step += 1
        if m.isEmpty {
            m = gradients.map { [Float](repeating: 0, count: $0.count) }
            v = m
        }
        let b1 = Float(beta1)
        let oneMinusB1 = Float(1 - beta1)
        let b2 = Float(beta2)
        let oneMinusB2 = Float(1 - beta2)
        let epsilon = Float(eps)
        var numeratorScale = learningRate
        var rootScale: Float = 1
        if biasCorrection {
            numeratorScale = Float(Double(learningRate) / (1 - pow(beta1, Double(step))))
            rootScale = Float(1 / (1 - pow(beta2, Double(step))).squareRoot())
        }
        for p in parameters.indices {
            let g = gradients[p]
            parameters[p].withUnsafeMutableBufferPointer { w in
                m[p].withUnsafeMutableBufferPointer { m in
                    v[p].withUnsafeMutableBufferPointer { v in
                        for i in 0..<g.count {
                            m[i] = b1 * m[i] + oneMinusB1 * g[i]
                            v[i] = b2 * v[i] + oneMinusB2 * (g[i] * g[i])
                            w[i] -= numeratorScale * m[i] / (v[i].squareRoot() * rootScale + epsilon)
                        }
                    }
                }
            }
        }
    }

    /// Restores moments and step, e.g. when resuming; buffers must match the parameters.
    public mutating func restore(step: Int, m: [[Float]], v: [[Float]]) {
        self.step = step
        self.m = m
        self.v = v
    }
}

/// mlx's `AdamW`: decoupled weight decay `w ← w·(1 − lr·λ)` applied before the Adam update.
///
/// Default weight decay 0.01, as in mlx (PyTorch's default is also 0.01).
public struct AdamW: Optimizer {
    public var adam: Adam
    public var weightDecay: Double
    public var step: Int { adam.step }

    /// Creates the optimizer with mlx's defaults: betas (0.9, 0.999), eps 1e-8, weight decay 0.01.
    public init(
        beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8, weightDecay: Double = 0.01,
        biasCorrection: Bool = false
    ) {
        adam = Adam(beta1: beta1, beta2: beta2, eps: eps, biasCorrection: biasCorrection)
        self.weightDecay = weightDecay
    }

    /// Decays the weights, then applies the Adam update to the decayed weights.
    public mutating func update(parameters: inout [[Float]], gradients: [[Float]], learningRate: Float) {
        let keep = 1 - learningRate * Float(weightDecay)
        for p in parameters.indices {
            for i in parameters[p].indices { parameters[p][i] *= keep }
        }
        adam.update(parameters: &parameters, gradients: gradients, learningRate: learningRate)
    }
}

/// mlx's `SGD`: optional L2 weight decay folded into the gradient, momentum with dampening,
/// and Nesterov momentum.
public struct SGD: Optimizer {
    // mlx's defaults: plain SGD.
    public var momentum = 0.0
    public var weightDecay = 0.0
    public var dampening = 0.0
    public var nesterov = false
    public private(set) var step = 0
    public private(set) var velocity: [[Float]] = []

    /// Applies one SGD update.
    public mutating func update(parameters: inout [[Float]], gradients: [[Float]], learningRate: Float) {
        step += 1
        if velocity.isEmpty { velocity = gradients.map { [Float](repeating: 0, count: $0.count) } }
        let mu = Float(momentum)
        let decay = Float(weightDecay)
        let damp = Float(1 - dampening)
        for p in parameters.indices {
            for i in parameters[p].indices {
                var g = gradients[p][i]
                if weightDecay != 0 { g += decay * parameters[p][i] }
                if momentum <= 0 {
                    parameters[p][i] -= learningRate * g
                    continue
                }
                let v = mu * velocity[p][i] + (dampening > 0 ? damp * g : g)
                velocity[p][i] = v
                parameters[p][i] -= learningRate * (nesterov ? g + mu * v : v)
            }
        }
    }
}
