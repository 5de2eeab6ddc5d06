import Foundation
import LEMFormats

/// The unfused adapter term of one `Linear`: after the base `y = x Wᵀ + b` it adds
/// `scale · (x A) B` (LoRA) and, for DoRA, rescales every output row to its learned magnitude.
///
/// DoRA's row scale `m / ‖W + scale·(A B)ᵀ‖` (norm over each output row, matches mlx_lm
/// DoRALinear) depends only on weights, so it is computed once here at load, decoding the base
/// one row at a time.
public struct LinearAdapter: Sendable {
    public let inputs: Int
    public let outputs: Int
    public let rank: Int
    /// The effective scale: the adapter's own scale times the user's `--adapter-scale`.
    public let scale: Float
    /// `lora_a`. // (I, R)
    public let a: [Float]
    /// `lora_b`. // (R, O)
    public let b: [Float]
    /// DoRA's `m / ‖W + scale·(A B)ᵀ‖_row`, nil for LoRA. // (O)
    public let rowScale: [Float]?

    /// Token rows whose hidden `x A` is computed at once; bounds the stack scratch to ~16 KB.
    static func chunkRows(rank: Int) -> Int { max(1, 4096 / max(1, rank)) }

    /// Builds the term for `module` over the base `weight` ([out, in]), scaling the adapter's own
    /// scale by `strength`.
    public init(module: InferenceAdapter.Module, weight: any WeightTensor, strength: Float) {
        inputs = module.inputs
        outputs = module.outputs
        rank = module.rank
        scale = module.scale * strength
        a = module.a
        b = module.b
        if let m = module.magnitude {
            rowScale = Self.doraRowScale(
                weight: weight, a: module.a, b: module.b, scale: scale, rank: rank, magnitude: m)
        } else {
            rowScale = nil
        }
    }

    /// `m[o] / ‖W[o, :] + scale · Σ_r A[:, r] B[r, o]‖` for every output row.
    public static func doraRowScale(
        weight: any WeightTensor, a: [Float], b: [Float], scale: Float, rank: Int, magnitude: [Float]
    ) -> [Float] {
        zip(magnitude, rowNorms(weight: weight, a: a, b: b, scale: scale, rank: rank)).map { Float(Double($0) / $1) }
    }

    /// `‖W[o, :] + scale · Σ_r A[:, r] B[r, o]‖` for every output row, summed in Float64; with rank
    /// 0 (no A, B) the base weight's own row norms. `weight` is decoded one row at a time.
    public static func rowNorms(
        weight: any WeightTensor, a: [Float] = [], b: [Float] = [], scale: Float = 0, rank: Int = 0
    ) -> [Double] {
        let inputs = weight.columns
        let outputs = weight.rows
        var row = [Float](repeating: 0, count: inputs)  // (I)
        var result = [Double](repeating: 0, count: outputs)  // (O)
        row.withUnsafeMutableBufferPointer { w in
            for o in 0..<outputs {
                weight.decodeRow(o, into: w.baseAddress!)
                var norm2: Double = 0
                for i in 0..<inputs {
                    var delta: Float = 0
                    for r in 0..<rank { delta += a[i * rank + r] * b[r * outputs + o] }
                    let v = Double(w[i] + scale * delta)
                    norm2 += v * v
                }
                result[o] = norm2.squareRoot()
            }
        }
        return result
    }

    /// Adds the term to `out`, which already holds the base layer's output (bias included).
    public func apply(
        _ x: UnsafePointer<Float>,  // (T, I)
        tokens: Int,
        bias: [Float]?,  // (O)
        out: UnsafeMutablePointer<Float>  // (T, O)
    ) {
        let chunk = Self.chunkRows(rank: rank)
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: chunk * rank) { hidden in  // (chunk, R)
                    var start = 0
                    while start < tokens {
                        let rows = min(chunk, tokens - start)
                        let xs = x + start * inputs
                        let os = out + start * outputs
                        Kernels.lowRankAdd(
                            xs, a: a.baseAddress!, b: b.baseAddress!, scale: scale, tokens: rows, inputs: inputs,
                            rank: rank, outputs: outputs, hidden: hidden.baseAddress!, out: os)
                        if let rowScale {
                            // DoRA: the rescale applies to x Wᵀ + scale·(xA)B; the bias is added after.
                            rowScale.withUnsafeBufferPointer { s in
                                if let bias {
                                    bias.withUnsafeBufferPointer {
                                        Kernels.rescaleRows(
                                            os, rowScale: s.baseAddress!, bias: $0.baseAddress, tokens: rows,
                                            outputs: outputs)
                                    }
                                } else {
                                    Kernels.rescaleRows(
                                        os, rowScale: s.baseAddress!, bias: nil, tokens: rows, outputs: outputs)
                                }
                            }
                        }
                        start += rows
                    }
                }
            }
        }
    }
}
