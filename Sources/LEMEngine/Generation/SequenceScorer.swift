import Foundation

/// Log-probabilities of a token sequence under a model: each token given the ones before it,
/// with the most likely alternatives at each position.
///
/// What OpenAI's `/v1/completions` reports with `echo` and `logprobs` (and so what
/// lm-evaluation-harness's loglikelihood tasks read): `log_softmax(logits[i - 1])[ids[i]]`, the
/// raw model distribution before any repetition penalty or temperature. The sequence is run in
/// chunks of `chunk` tokens over one cache, so at most `(chunk, V)` logits are held at once.
public enum SequenceScorer {
    /// One scored position.
    public struct Position: Sendable, Equatable {
        /// The token at this position.
        public var id: Int
        /// `log p(id | ids before it)`.
        public var logprob: Double
        /// The `top` most likely ids at this position with their log-probabilities, best first.
        public var top: [Alternative]
    }

    /// A candidate token and its log-probability.
    public struct Alternative: Sendable, Equatable {
        public var id: Int
        public var logprob: Double
    }

    /// Scores `ids[1...]` (the first token has no context and is not scored): returns
    /// `ids.count - 1` positions, or none for fewer than two ids.
    ///
    /// Throws `ModelError` for ids out of range or a sequence past the context, and
    /// `CancellationError` when `handle` is cancelled between chunks.
    public static func score(
        model: any LanguageModel, ids: [Int], top: Int, chunk: Int = 64, handle: GenerationHandle? = nil
    ) throws -> [Position] {
        guard ids.count > 1 else { return [] }
        let cache = model.makeCache()
        let v = model.config.vocabSize
        var positions: [Position] = []
        positions.reserveCapacity(ids.count - 1)
        var offset = 0
        let step = max(1, chunk)
        // The last token's logits predict nothing we score, so it is never run.
        let inputs = ids.dropLast()
        while offset < inputs.count {
            if handle?.isCancelled == true { throw CancellationError() }
            let end = min(offset + step, inputs.count)
            let logits = try model.forward(tokens: Array(inputs[offset..<end]), cache: cache, logits: .all)  // (T, V)
            for row in 0..<(end - offset) {
                let next = ids[offset + row + 1]
                logits.withUnsafeBufferPointer { all in
                    let r = UnsafeBufferPointer(rebasing: all[(row * v)..<(row * v + v)])
                    positions.append(position(row: r, id: next, top: top))
                }
            }
            offset = end
        }
        return positions
    }

    /// The log-softmax of one row of logits at `id`, with the `top` best alternatives.
    static func position(row: UnsafeBufferPointer<Float>, id: Int, top: Int) -> Position {
        var maxLogit = -Float.infinity
        for l in row where l > maxLogit { maxLogit = l }
        var sum = 0.0
        for l in row { sum += exp(Double(l - maxLogit)) }
        let logNorm = Double(maxLogit) + log(sum)
        var best: [Alternative] = []
        if top > 0 {
            best.reserveCapacity(top + 1)
            for (i, l) in row.enumerated() {
                let lp = Double(l) - logNorm
                if best.count == top, let last = best.last, lp <= last.logprob { continue }
                let at = best.firstIndex { lp > $0.logprob } ?? best.count
                best.insert(Alternative(id: i, logprob: lp), at: at)
                if best.count > top { best.removeLast() }
            }
        }
        let logprob = id >= 0 && id < row.count ? Double(row[id]) - logNorm : -Double.infinity
        return Position(id: id, logprob: logprob, top: best)
    }
}
