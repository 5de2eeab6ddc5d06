import Foundation
import TestSupport
import Testing

@testable import LEMTrainer

/// numpy's legacy permutation and mlx_lm's `iterate_batches`, against fixtures produced by
/// numpy 2.4.6 / mlx_lm 0.32.2 (Scripts/fixtures_trainer.py).
@Suite struct BatchIteratorTests {
    struct Permutations: Decodable {
        struct Draw: Decodable {
            var n: Int
            var permutation: [Int]
        }
        var seed: UInt32
        var draws: [Draw]
    }

    @Test func numpyPermutationsMatch() throws {
        let data = try Data(contentsOf: TestPaths.fixture("trainer/numpy_permutation.json"))
        for case let fixture in try JSONDecoder().decode([Permutations].self, from: data) {
            var random = NumpyRandomState(seed: fixture.seed)
            for draw in fixture.draws {
                #expect(random.permutation(draw.n) == draw.permutation, "seed \(fixture.seed) n \(draw.n)")
            }
        }
    }

    @Test func mt19937ReferenceOutput() {
        // The first output of MT19937 seeded with 5489 (init_genrand) is 3499211612.
        var random = NumpyRandomState(seed: 5489)
        #expect(random.nextUInt32() == 3_499_211_612)
    }

    struct Batches: Decodable {
        struct Item: Decodable {
            var tokens: [Int]
            var offset: Int
            var extra: Int?
        }
        struct Batch: Decodable {
            var batch: [[Int]]
            var lengths: [[Int]]
        }
        var items: [Item]
        var seed: UInt32
        var batch_size: Int
        var max_seq_length: Int
        var batches: [Batch]
    }

    @Test func matchesMLXLMIterateBatches() throws {
        let data = try Data(contentsOf: TestPaths.fixture("trainer/batches.json"))
        let fixture = try JSONDecoder().decode(Batches.self, from: data)
        let examples = fixture.items.map {
            TokenizedExample(tokens: $0.tokens, offset: $0.offset, keyCount: $0.extra == nil ? 2 : 3)
        }
        var iterator = try BatchIterator(
            examples: examples, batchSize: fixture.batch_size,
            maxSeqLength: fixture.max_seq_length, order: .mlxLMKeyCount)
        var random = NumpyRandomState(seed: fixture.seed)
        for (k, expected) in fixture.batches.enumerated() {
            let batch = iterator.next(random: &random)
            #expect(batch.width == expected.batch[0].count, "batch \(k) width")
            #expect(batch.tokens == expected.batch.flatMap { $0 }, "batch \(k) tokens")
            #expect(batch.offsets == expected.lengths.map { $0[0] }, "batch \(k) offsets")
            #expect(batch.lengths == expected.lengths.map { $0[1] }, "batch \(k) lengths")
        }
    }

    @Test func tokenCountOrderGroupsSimilarLengths() throws {
        let examples = [5, 1, 4, 2, 3, 6, 9].map { TokenizedExample(tokens: Array(repeating: 7, count: $0), offset: 0) }
        let iterator = try BatchIterator(examples: examples, batchSize: 2, maxSeqLength: 100)
        #expect(iterator.groups == [[1, 3], [4, 2], [0, 5]])  // lengths (1,2) (3,4) (5,6); 9 dropped
        var random = NumpyRandomState(seed: 0)
        let all = iterator.evaluationBatches(limit: -1, random: &random)
        #expect(all.count == 3)
        #expect(iterator.evaluationBatches(limit: 2, random: &random).count == 2)
        #expect(throws: DatasetError.self) {
            try BatchIterator(examples: Array(examples.prefix(1)), batchSize: 2, maxSeqLength: 10)
        }
    }

    @Test func paddingTruncationAndMasks() {
        let a = TokenizedExample(tokens: [11, 12, 13, 14], offset: 2)
        let b = TokenizedExample(tokens: Array(1...40), offset: 0)
        let batch = TrainingBatch([a, b], maxSeqLength: 36)
        #expect(batch.width == 36)  // min(1 + 32·2, 36)
        #expect(batch.lengths == [4, 36])
        #expect(batch.truncatedRows == 1)
        #expect(Array(batch.tokens[0..<6]) == [11, 12, 13, 14, 0, 0])
        let exact = batch.targetMask(.exact)
        let mlx = batch.targetMask(.mlxLM)
        // Row 0 targets tokens 2 and 3 (13, 14); mlx_lm's mask adds the padding after 14.
        #expect(Array(exact[0..<5]) == [0, 1, 1, 0, 0])
        #expect(Array(mlx[0..<5]) == [0, 1, 1, 1, 0])
        // The truncated row fills the batch: every target counts under both masks.
        #expect(Array(exact[35..<70]) == Array(repeating: 1, count: 35))
        #expect(Array(mlx[35..<70]) == Array(repeating: 1, count: 35))
        let short = TrainingBatch([TokenizedExample(tokens: [1, 2, 3], offset: 0)], maxSeqLength: 2048)
        #expect(short.width == 33)
    }
}
