/// A padded batch of token sequences as mlx_lm's `iterate_batches` yields it, with the loss
/// mask of its targets.
///
/// Rows are right-padded with token 0 to `width = min(1 + 32·⌈longest/32⌉, maxSeqLength)`;
/// sequences longer than `maxSeqLength` are truncated. The model reads `tokens[:, :-1]` and
/// predicts `tokens[:, 1:]`, so a batch has `width − 1` positions per row.
public struct TrainingBatch: Sendable, Equatable {
    /// Token ids, row-major. // (B, width)
    public var tokens: [Int]
    public var batchSize: Int
    public var width: Int
    /// Per row: length after truncation.
    public var lengths: [Int]
    /// Per row: first trained token index (0 without prompt masking).
    public var offsets: [Int]
    /// Rows whose sequence was longer than `maxSeqLength` and got cut.
    public var truncatedRows: Int

    /// Builds the batch for `examples`, as `iterate_batches` pads and truncates them.
    public init(_ examples: [TokenizedExample], maxSeqLength: Int) {
        let longest = examples.map(\.tokens.count).max() ?? 0
        let padTo = 32
        width = min(1 + padTo * ((longest + padTo - 1) / padTo), maxSeqLength)
        batchSize = examples.count
        tokens = [Int](repeating: 0, count: batchSize * width)
        lengths = []
        offsets = examples.map(\.offset)
        truncatedRows = 0
        for (row, example) in examples.enumerated() {
            let length = min(example.tokens.count, maxSeqLength)
            if example.tokens.count > maxSeqLength { truncatedRows += 1 }
            for t in 0..<length { tokens[row * width + t] = example.tokens[t] }
            lengths.append(length)
        }
    }

    /// How the loss mask treats the position just past each sequence.
    public enum TargetMask: Sendable {
        /// Targets are tokens `offset ..< length` (every real next token, nothing else).
        case exact
        /// mlx_lm 0.32's `default_loss` mask, `offset ≤ t + 1 ≤ length`: it also trains on
        /// predicting one padding token (id 0) after the last token of each unfilled row. Use
        /// only to reproduce mlx_lm's numbers.
        case mlxLM
    }

    /// The loss mask over target positions: 1 where row `b`'s prediction at position `t`
    /// (of token `t + 1`) counts. // (B, width − 1)
    public func targetMask(_ kind: TargetMask = .exact) -> [Float] {
        let positions = width - 1
        var mask = [Float](repeating: 0, count: batchSize * positions)
        for b in 0..<batchSize {
            for t in 0..<positions {
                let step = t + 1
                let inside = kind == .exact ? step < lengths[b] : step <= lengths[b]
                if step >= offsets[b] && inside { mask[b * positions + t] = 1 }
            }
        }
        return mask
    }
}
