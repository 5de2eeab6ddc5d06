import LEMEngine

// Backward pass of causal (optionally sliding-window) grouped-query attention over one
// sequence. Legend as in Kernels+TrainingForward.swift; gradients are added into their outputs.

extension Kernels {
    /// Gradients of `attentionForward` from the saved probabilities.
    ///
    /// For query `i` of head `h`: `dP_ij = dO_i·V_j`, `dS_ij = P_ij (dP_ij − Σ_j' P_ij' dP_ij')`,
    /// `dQ_i += scale Σ_j dS_ij K_j`, `dK_j += scale dS_ij Q_i`, `dV_j += P_ij dO_i`; the key and
    /// value gradients of the `H / K` query heads sharing a key/value head add up.
    public static func attentionBackward<T: TrainingScalar>(
        _ dOut: UnsafePointer<T>,  // (T, H, D)
        query q: UnsafePointer<T>,  // (T, H, D)
        key k: UnsafePointer<T>,  // (T, K, D)
        value v: UnsafePointer<T>,  // (T, K, D)
        probabilities p: UnsafePointer<T>,  // (H, T, T), from the forward
        tokens: Int, heads: Int, kvHeads: Int, headDim: Int, scale: T, window: Int?,
        dQuery: UnsafeMutablePointer<T>,  // (T, H, D), added into
        dKey: UnsafeMutablePointer<T>,  // (T, K, D), added into
        dValue: UnsafeMutablePointer<T>  // (T, K, D), added into
    ) {
        let group = heads / kvHeads
        var dScores = [T](repeating: 0, count: tokens)  // (T) for the current query
        for h in 0..<heads {
            let kvh = h / group
            for i in 0..<tokens {
                let probs = p + (h * tokens + i) * tokens
                let first = window.map { max(0, i - $0 + 1) } ?? 0
                let doi = dOut + (i * heads + h) * headDim
                var weighted: T = 0
                for j in first...i {
                    let vj = v + (j * kvHeads + kvh) * headDim
                    let dvj = dValue + (j * kvHeads + kvh) * headDim
                    var dot: T = 0
                    for d in 0..<headDim {
                        dot += doi[d] * vj[d]
                        dvj[d] += probs[j] * doi[d]
                    }
                    dScores[j] = dot
                    weighted += probs[j] * dot
                }
                let qi = q + (i * heads + h) * headDim
                let dqi = dQuery + (i * heads + h) * headDim
                for j in first...i {
                    let ds = probs[j] * (dScores[j] - weighted) * scale
                    if ds == 0 { continue }
                    let kj = k + (j * kvHeads + kvh) * headDim
                    let dkj = dKey + (j * kvHeads + kvh) * headDim
                    for d in 0..<headDim {
                        dqi[d] += ds * kj[d]
                        dkj[d] += ds * qi[d]
                    }
                }
            }
        }
    }
}
