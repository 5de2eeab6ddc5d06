import Foundation
import LEMFormats

extension Kernels {
    /// The rotary inverse frequencies `1 / base^(2i / D)` for `i < D/2`, rescaled per `scaling`.
    ///
    /// Computed in f32 like transformers' `_compute_default_rope_parameters`; `.linear` divides
    /// every frequency by the factor, `.yarn` follows `_compute_yarn_parameters`, `.llama3` follows
    /// `_compute_llama3_parameters` (long
    /// wavelengths divided by the factor, short ones kept, a smooth blend in between).
    public static func ropeInverseFrequencies(
        headDim: Int, base: Double, scaling: ModelConfig.RopeScaling
    ) -> [Float] {  // (D/2)
        let half = headDim / 2
        var inv = (0..<half).map { i -> Float in
            1 / powf(Float(base), Float(2 * i) / Float(headDim))
        }
        switch scaling {
        case .none:
            break
        case .linear(let factor):
            inv = inv.map { $0 / Float(factor) }
        case .llama3(let factor, let lowFreqFactor, let highFreqFactor, let originalMaxPositions):
            let f = Float(factor)
            let low = Float(lowFreqFactor)
            let high = Float(highFreqFactor)
            let oldContext = Float(originalMaxPositions)
            let lowFreqWavelen = oldContext / low
            let highFreqWavelen = oldContext / high
            inv = inv.map { freq in
                let wavelen = 2 * Float.pi / freq
                let scaled = wavelen > lowFreqWavelen ? freq / f : freq
                let isMedium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen)
                guard isMedium else { return scaled }
                let smooth = (oldContext / wavelen - low) / (high - low)
                return (1 - smooth) * scaled / f + smooth * scaled
            }
        case let .yarn(factor, betaFast, betaSlow, originalMaxPositions, truncate, _):
            // matches transformers _compute_yarn_parameters: the correction range in f64, the
            // frequencies and the ramp in f32 (its attention factor scales cos/sin: RotaryTable).
            let dim = Double(headDim)
            func correction(_ rotations: Double) -> Double {
                dim * Foundation.log(Double(originalMaxPositions) / (rotations * 2 * Double.pi))
                    / (2 * Foundation.log(base))
            }
            var low = correction(betaFast)
            var high = correction(betaSlow)
            if truncate {
                low = low.rounded(.down)
                high = high.rounded(.up)
            }
            low = max(low, 0)
            high = min(high, dim - 1)
            if low == high { high += 0.001 }
            let f = Float(factor)
            inv = (0..<half).map { i -> Float in
                let pos = powf(Float(base), Float(2 * i) / Float(headDim))
                let ramp = min(max((Float(i) - Float(low)) / Float(high - low), 0), 1)
                let extrapolation = 1 - ramp
                return 1 / (f * pos) * (1 - extrapolation) + 1 / pos * extrapolation
            }
        }
        return inv
    }

    /// Fills the cosine and sine tables for the given absolute positions.
    ///
    /// The angle is `Float(position) * invFreq[i]` rounded to f32 (as transformers' f32 matmul
    /// does), then its cosine and sine are taken.
    public static func ropeTable(
        positions: UnsafePointer<Int>,  // (T)
        count: Int,
        inverseFrequencies invFreq: UnsafePointer<Float>,  // (D/2)
        half: Int,
        cos cosOut: UnsafeMutablePointer<Float>,  // (T, D/2)
        sin sinOut: UnsafeMutablePointer<Float>  // (T, D/2)
    ) {
        for t in 0..<count {
            let p = Float(positions[t])
            for i in 0..<half {
                let angle = Double(p * invFreq[i])
                cosOut[t * half + i] = Float(Foundation.cos(angle))
                sinOut[t * half + i] = Float(Foundation.sin(angle))
            }
        }
    }

    /// Rotates every head of `x` in place, NEOX / `rotate_half` style as transformers does.
    ///
    /// For head vector `v` with halves `a = v[..<D/2]`, `b = v[D/2...]`:
    /// `a' = a cos - b sin`, `b' = b cos + a sin`.
    public static func applyRope(
        _ x: UnsafeMutablePointer<Float>,  // (T, heads, D)
        tokens: Int, heads: Int, headDim: Int,
        cos: UnsafePointer<Float>,  // (T, D/2)
        sin: UnsafePointer<Float>  // (T, D/2)
    ) {
        let half = headDim / 2
        for t in 0..<tokens {
            let c = cos + t * half
            let s = sin + t * half
            for h in 0..<heads {
                let v = x + (t * heads + h) * headDim
                for i in 0..<half {
                    let a = v[i]
                    let b = v[i + half]
                    v[i] = a * c[i] - b * s[i]
                    v[i + half] = b * c[i] + a * s[i]
                }
            }
        }
    }
}
