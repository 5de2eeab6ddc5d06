/// How examples are grouped into batches before the batch order is shuffled.
public enum BatchOrder: Sendable {
    /// Sorted by token count (stable), so each batch holds similar lengths and little padding:
    /// what mlx_lm's `iterate_batches` intends.
    case tokenCount
    /// Sorted by the record's number of JSON keys, which is what mlx_lm 0.32 actually does for
    /// its cached datasets (`len()` of the raw record); in practice file order. For parity runs.
    case mlxLMKeyCount
}

/// Serves batches as mlx_lm's `iterate_batches`: examples sorted (stably) by `BatchOrder`, cut
/// into consecutive groups of `batchSize` (the remainder is dropped), and the groups visited in
/// the order of one `np.random.permutation` per pass.
public struct BatchIterator: Sendable {
    public let examples: [TokenizedExample]
    public let batchSize: Int
    public let maxSeqLength: Int
    /// Example indices of each batch, in sorted order.
    public let groups: [[Int]]
    private var order: [Int] = []
    private var position = 0

    /// Groups `examples`; throws when there are fewer examples than one batch.
    public init(
        examples: [TokenizedExample], batchSize: Int, maxSeqLength: Int, order: BatchOrder = .tokenCount,
        name: String = "dataset"
    ) throws {
        guard examples.count >= batchSize, batchSize >= 1 else {
            throw DatasetError.tooFewExamples(file: name, count: examples.count, batchSize: batchSize)
        }
        self.examples = examples
        self.batchSize = batchSize
        self.maxSeqLength = maxSeqLength
        let key: (Int) -> Int = order == .tokenCount ? { examples[$0].tokens.count } : { examples[$0].keyCount }
        let sorted = examples.indices.sorted { (key($0), $0) < (key($1), $1) }
        groups = stride(from: 0, through: sorted.count - batchSize, by: batchSize).map {
            Array(sorted[$0..<$0 + batchSize])
        }
    }

    /// The number of batches in one pass.
    public var batchesPerPass: Int { groups.count }

    /// The next batch of an endless loop over passes (training); each new pass draws its
    /// permutation from `random` when its first batch is requested, as the generator does.
    public mutating func next(random: inout NumpyRandomState) -> TrainingBatch {
        if position == order.count {
            order = random.permutation(groups.count)
            position = 0
        }
        let group = groups[order[position]]
        position += 1
        return TrainingBatch(group.map { examples[$0] }, maxSeqLength: maxSeqLength)
    }

    /// The batches of one evaluation pass: up to `limit` (-1 for all) batches in the order of a
    /// fresh permutation. No permutation is drawn when `limit` is 0 (mlx_lm never starts the
    /// generator then).
    public func evaluationBatches(limit: Int, random: inout NumpyRandomState) -> [TrainingBatch] {
        if limit == 0 { return [] }
        let permutation = random.permutation(groups.count)
        let count = limit < 0 ? groups.count : min(limit, groups.count)
        return permutation.prefix(count).map {
            TrainingBatch(groups[$0].map { examples[$0] }, maxSeqLength: maxSeqLength)
        }
    }
}
