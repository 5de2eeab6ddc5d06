import Foundation
import LEMCore
import LEMFormats
import TestSupport
import Testing

@testable import LEMTrainer

/// The tiny checkpoints the trainer tests build their models from (`Tests/Fixtures/engine`).
enum TinyModels {
    /// The checkpoint `name` (a folder, or a file inside one).
    static func files(_ name: String) throws -> ModelFiles {
        try ModelFiles.open(TestPaths.fixture("engine/\(name)"))
    }

    /// The fast model over checkpoint `name`; `config` replaces the checkpoint's own.
    static func fast(_ name: String, config: ModelConfig? = nil) throws -> LoRATransformer {
        let files = try files(name)
        return try LoRATransformer(config: config ?? files.config, tensors: files.tensors, source: name)
    }

    /// The oracle in `T` over checkpoint `name`; `config` replaces the checkpoint's own.
    static func oracle<T: TrainingScalar>(_ name: String, as _: T.Type = Double.self, config: ModelConfig? = nil) throws
        -> TrainableTransformer<T>
    {
        let files = try files(name)
        return try TrainableTransformer<T>(config: config ?? files.config, tensors: files.tensors, source: name)
    }
}

/// A whole-model backward reference (Scripts/fixtures_trainer_backward.py): PyTorch autograd's
/// loss and adapter gradients on a tiny model, with the adapter and the batch it used.
struct BackwardReference: Decodable {
    struct Example: Decodable {
        var tokens: [Int]
        var offset: Int
    }
    /// `m` only for DoRA.
    struct Gradient: Decodable {
        var a: [Double]
        var b: [Double]
        var m: [Double]?
    }
    var rank: Int
    var scale: Double
    var num_layers: Int
    var examples: [Example]
    var loss: Double
    var tokens: Int
    var gradients: [String: Gradient]

    /// The reference in `Tests/Fixtures/trainer/<kind>/<model>` (`kind`: `backward` or
    /// `backward_dora`), its adapter and its batch.
    static func load(_ kind: String, _ model: String) throws -> (BackwardReference, LoRAAdapter, TrainingBatch) {
        let folder = TestPaths.fixture("trainer/\(kind)/\(model)")
        let reference = try JSONDecoder().decode(
            BackwardReference.self, from: Data(contentsOf: folder.appendingPathComponent("reference.json")))
        let adapter = try LoRAAdapter(
            weightsFile: folder.appendingPathComponent("adapters.safetensors"),
            parameters: .init(rank: reference.rank, scale: reference.scale),
            numLayers: reference.num_layers)
        let batch = TrainingBatch(
            reference.examples.map { TokenizedExample(tokens: $0.tokens, offset: $0.offset) },
            maxSeqLength: 2048)
        return (reference, adapter, batch)
    }

    /// The gradients as the models give them.
    var expected: [String: LoRAGradient<Double>] {
        gradients.mapValues { LoRAGradient(a: $0.a, b: $0.b, m: $0.m) }
    }
}

/// Expects a gradient in `actual` for every layer of `expected`, each of A, B and (where
/// `expected` has one) m within its absolute tolerance.
func expectGradients<T: TrainingScalar>(
    _ actual: [String: LoRAGradient<T>], match expected: [String: LoRAGradient<Double>],
    tolA: Double, tolB: Double, tolM: Double = 0, label: String
) throws {
    for (path, e) in expected.sorted(by: { $0.key < $1.key }) {
        let g = try #require(actual[path], "\(label): no gradient for \(path)")
        #expect(checkClose(g.a, e.a, tol: tolA, label: "\(label) \(path) dA") == nil)
        #expect(checkClose(g.b, e.b, tol: tolB, label: "\(label) \(path) dB") == nil)
        if let em = e.m { #expect(checkClose(g.m ?? [], em, tol: tolM, label: "\(label) \(path) dm") == nil) }
    }
}

/// The largest magnitude among `gradients`' values (A, B and any m).
func largestGradient(_ gradients: [String: LoRAGradient<Double>]) -> Double {
    gradients.values.flatMap { $0.a + $0.b + ($0.m ?? []) }.map(abs).max() ?? 1
}

/// Runs the fast model and its Float64 oracle on the same batch and adapter and expects the same
/// trained-token count, losses within 1e-4 relative, every gradient within 1e-4 of the largest
/// oracle gradient, and the training loss again from a validation pass; returns the fast loss
/// and the oracle's gradients.
@discardableResult
func expectFastMatchesOracle(
    _ fast: LoRATransformer, _ oracle: TrainableTransformer<Double>, batch: TrainingBatch, adapter: LoRAAdapter,
    label: String
) throws -> (loss: Double, expected: [String: LoRAGradient<Double>]) {
    let (loss, tokens, gradients) = fast.lossAndGradients(batch: batch, adapter: adapter)
    let (expectedLoss, expectedTokens, expected) = oracle.lossAndGradients(batch: batch, adapter: adapter)
    #expect(tokens == expectedTokens)
    #expect(abs(loss - expectedLoss) <= 1e-4 * abs(expectedLoss), "\(label) loss \(loss) vs \(expectedLoss)")
    let scale = largestGradient(expected)
    #expect(scale > 0)
    try expectGradients(
        gradients, match: expected, tolA: 1e-4 * scale, tolB: 1e-4 * scale, tolM: 1e-4 * scale,
        label: label)
    let validation = fast.lossAndGradients(batch: batch, adapter: adapter, computeGradients: false)
    #expect(abs(validation.loss - loss) <= 1e-6 * abs(loss))
    return (loss, expected)
}

/// An mlx_lm training run (Scripts/fixtures_trainer_trajectory*.py): its examples (each a whole
/// training row, offset 0), every step's report and every validation.
struct TrajectoryReference: Decodable {
    struct Report: Decodable {
        var step: Int
        var loss: Double
        var lr: Double?
        var trained_tokens: Int?
    }
    var train_examples: [[Int]]
    var valid_examples: [[Int]]
    var train: [Report]
    var validation: [Report]

    /// `folder`'s `reference.json` as `T` (this reference, or a test's fuller view of the same file).
    static func load<T: Decodable>(_ folder: URL, as _: T.Type = TrajectoryReference.self) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: folder.appendingPathComponent("reference.json")))
    }

    /// Runs `training` from `initial` on the reference's examples; returns the trained adapter and
    /// every event.
    func run(_ training: LoRATraining, model: some LoRALossModel, from initial: LoRAAdapter) throws
        -> (adapter: LoRAAdapter, events: [TrainingEvent])
    {
        var events: [TrainingEvent] = []
        let trained = try training.run(
            model: model, adapter: initial, train: train_examples.map { TokenizedExample(tokens: $0, offset: 0) },
            valid: valid_examples.map { TokenizedExample(tokens: $0, offset: 0) }, onEvent: { events.append($0) })
        return (trained, events)
    }
}

extension [TrainingEvent] {
    /// The reports of the `.trainReport` events, in order.
    var trainReports: [TrainingEvent.TrainReport] { compactMap { if case .trainReport(let r) = $0 { r } else { nil } } }

    /// The steps and losses of the `.validation` events, in order.
    var validations: [(step: Int, loss: Double)] {
        compactMap { if case .validation(let step, let loss, _) = $0 { (step, loss) } else { nil } }
    }
}
