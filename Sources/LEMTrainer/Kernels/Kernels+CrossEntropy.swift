import LEMEngine

// Masked next-token cross-entropy, normalised as mlx_lm's `default_loss`: the sum of the
// per-token losses over every unmasked target of the whole batch, divided by their count
// (a per-token mean over the batch, not a mean of per-example means).

extension Kernels {
    /// Sums the cross-entropy of the rows whose mask is non-zero.
    ///
    /// Returns the mask-weighted loss sum and the mask sum (the token count for a 0/1 mask),
    /// accumulated in Float64; the batch loss is `lossSum / tokenCount`. Row `n` predicts
    /// `targets[n]` from `logits[n]`; masked rows are not evaluated.
    public static func crossEntropyForward<T: TrainingScalar>(
        logits: UnsafePointer<T>,  // (N, V)
        targets: UnsafePointer<Int>,  // (N)
        mask: UnsafePointer<T>,  // (N), 0 or 1
        rows: Int, vocabulary: Int
    ) -> (lossSum: Double, tokenCount: Double) {
        var lossSum = 0.0
        var count = 0.0
        for n in 0..<rows where mask[n] != 0 {
            let row = logits + n * vocabulary
            lossSum += Double(mask[n]) * (logSumExp(row, count: vocabulary) - Double(row[targets[n]]))
            count += Double(mask[n])
        }
        return (lossSum, count)
    }

    /// Gradient of `crossEntropyForward(...).lossSum / normalizer` with respect to the logits,
    /// written (not added) into `dLogits`: `mask_n / normalizer · (softmax(logits_n) − onehot)`.
    ///
    /// Pass the batch's token count as `normalizer` for mlx_lm's loss; divide it further by
    /// the accumulation steps when accumulating gradients.
    public static func crossEntropyBackward<T: TrainingScalar>(
        logits: UnsafePointer<T>,  // (N, V)
        targets: UnsafePointer<Int>,  // (N)
        mask: UnsafePointer<T>,  // (N)
        rows: Int, vocabulary: Int, normalizer: Double,
        dLogits: UnsafeMutablePointer<T>  // (N, V), overwritten
    ) {
        for n in 0..<rows {
            let row = logits + n * vocabulary
            let out = dLogits + n * vocabulary
            guard mask[n] != 0 else {
                for j in 0..<vocabulary { out[j] = 0 }
                continue
            }
            let lse = logSumExp(row, count: vocabulary)
            let weight = Double(mask[n]) / normalizer
            for j in 0..<vocabulary {
                out[j] = T(weight * expDouble(Double(row[j]) - lse))
            }
            out[targets[n]] -= T(weight)
        }
    }

    /// log Σ exp(x) of one row, stabilised by the row maximum, in Float64.
    static func logSumExp<T: TrainingScalar>(_ x: UnsafePointer<T>, count: Int) -> Double {
        var maximum = -Double.infinity
        for j in 0..<count { maximum = max(maximum, Double(x[j])) }
        var total = 0.0
        for j in 0..<count { total += expDouble(Double(x[j]) - maximum) }
        return maximum + logDouble(total)
    }
}
