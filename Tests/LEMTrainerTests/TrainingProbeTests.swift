import Foundation
import LEMCore
import LEMFormats
import TestSupport
import Testing

@testable import LEMTrainer

/// When a run probes: step 0, after every K-th save, with the final adapter; a failing probe is
/// a probe event, not a failed run; a stop during a probe still ends the run promptly.
@Suite struct TrainingProbeTests {
    /// Records each call and answers with the checkpoint's file size as the "score", so the
    /// test can tell that the probe saw the file the run had just written.
    final class RecordingProbe: TrainingProbe, @unchecked Sendable {
        let every: Int
        let failAt: Int?
        let lock = NSLock()
        var calls: [(step: Int, checkpoint: URL?)] = []

        init(every: Int, failAt: Int? = nil) {
            self.every = every
            self.failAt = failAt
        }

        func probe(step: Int, checkpoint: URL?, isCancelled: @Sendable () -> Bool) throws -> ProbeReport {
            lock.lock()
            calls.append((step, checkpoint))
            lock.unlock()
            if step == failAt { throw DatasetError.badLine(file: "probe", line: step, reason: "model exploded") }
            let size = try checkpoint.map { try Data(contentsOf: $0).count } ?? 0
            return ProbeReport(
                step: step, scorer: "size",
                answers: [.init(id: "P", prompt: "p", answer: "a", score: Double(size), tokens: 1)],
                seconds: 0)
        }
    }

    func run(iters: Int, saveEvery: Int, probe: RecordingProbe, cancelled: @escaping @Sendable () -> Bool = { false })
        throws
        -> (events: [TrainingEvent], folder: URL)
    {
        let model = try TinyModels.oracle("qwen2_tiny", as: Float.self)
        var config = TrainingConfig()
        config.iters = iters
        config.saveEvery = saveEvery
        config.batchSize = 1
        config.stepsPerReport = 1
        config.learningRate = 1e-3
        config.loraParameters = .init(rank: 2, scale: 4)
        var random = SeededGenerator(seed: 4)
        let adapter = try model.makeAdapter(parameters: config.loraParameters, numLayers: 1, using: &random)
        let examples = (0..<3).map { i in TokenizedExample(tokens: Array(3..<9 + i), offset: 0) }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lem-probe-\(UUID().uuidString)")
        var events: [TrainingEvent] = []
        _ = try LoRATraining(config: config, options: .init(outputFolder: folder, probe: probe)).run(
            model: model, adapter: adapter, train: examples, valid: [], isCancelled: cancelled,
            onEvent: { events.append($0) })
        return (events, folder)
    }

    @Test func probesAtStartEveryKSavesAndTheEnd() throws {
        let probe = RecordingProbe(every: 2)
        let (events, folder) = try run(iters: 7, saveEvery: 1, probe: probe)
        // Saves at 1…7; probes at 0, after saves 2, 4, 6, and the final adapter (step 7).
        #expect(probe.calls.map { $0.step } == [0, 2, 4, 6, 7])
        #expect(probe.calls[0].checkpoint == nil)
        #expect(probe.calls[1].checkpoint?.lastPathComponent == LoRAAdapter.checkpointFile(step: 2))
        #expect(probe.calls[4].checkpoint?.lastPathComponent == LoRAAdapter.weightsFile)
        // Each probe follows its save, before the next iteration's report.
        let kinds = events.map { e -> String in
            switch e {
            case .trainReport(let r): return "t\(r.step)"
            case .saved(let s, _): return "s\(s)"
            case .probe(let p): return "p\(p.step)"
            case .finished: return "end"
            case .started: return "start"
            default: return "?"
            }
        }
        #expect(
            kinds == [
                "start", "p0", "t1", "s1", "t2", "s2", "p2", "t3", "s3", "t4", "s4", "p4", "t5", "s5", "t6", "s6", "p6",
                "t7", "s7", "p7", "end"
            ])
        // The probe saw the real checkpoint (non-empty file), and the log holds the same events.
        guard case .probe(let p2) = events[6] else {
            Issue.record("no probe at index 6")
            return
        }
        #expect((p2.meanScore ?? 0) > 0)
        #expect(
            try TrainLog.read(folder.appendingPathComponent("train-log.jsonl")).filter {
                if case .probe = $0 { true } else { false }
            }.count == 5)
    }

    @Test func aFailingProbeIsAnEventNotAFailedRun() throws {
        let probe = RecordingProbe(every: 1, failAt: 2)
        let (events, _) = try run(iters: 3, saveEvery: 2, probe: probe)
        let probes = events.compactMap { if case .probe(let p) = $0 { p } else { nil } }
        #expect(probes.map(\.step) == [0, 2, 3])
        #expect(probes[1].answers.isEmpty && probes[1].meanScore == nil)
        #expect(probes[1].error?.contains("model exploded") == true)
        guard case .finished(3, _) = events.last else {
            Issue.record("last event \(String(describing: events.last))")
            return
        }
    }

    @Test func aStopRequestStillEndsTheRun() throws {
        let probe = RecordingProbe(every: 1)
        let (events, _) = try run(iters: 20, saveEvery: 1, probe: probe, cancelled: { true })
        // Step-0 probe, iteration 1, its save and probe, then the stop: no final-adapter probe.
        #expect(probe.calls.map { $0.step } == [0, 1])
        #expect(events.last == .failed(step: 1, message: "cancelled"))
    }
}
