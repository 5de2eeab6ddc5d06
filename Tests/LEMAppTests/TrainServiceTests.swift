import Foundation
@testable import LEMApp
import LEMCore
import LEMTrainer
import Panels
import Testing

@Suite("TrainService", .serialized)
struct TrainServiceTests {
    let world: TinyWorld
    let inbox = FakeInbox()
    let service: TrainService

    init() throws {
        world = try TinyWorld()
        service = TrainService(context: world.context, inbox: inbox)
    }

    func request(iters: Int, folder: String = "adapters/run") -> TrainRunRequest {
        TrainRunRequest(values: [
            "model": world.model.path, "data": world.dataFolder.path, "iters": "\(iters)", "batch_size": "2",
            "num_layers": "1", "max_seq_length": "32", "adapter_path": world.root.appendingPathComponent(folder).path,
            "steps_per_report": "1", "steps_per_eval": "2", "save_every": "2", "learning_rate": "1e-3",
        ])
    }

    @Test("a run started from the form trains, reports every step and finishes with its adapter offered to Chat")
    func start() throws {
        service.handle(.start(request(iters: 4)))
        try inbox.settle("finished") { $0.train.model.status?.hasPrefix("finished") == true }
        let m = inbox.workbench.train.model
        #expect(!m.isRunning && m.isLocalRun)
        #expect(m.trainLoss.map(\.step) == [1, 2, 3, 4])
        #expect(m.totalSteps == 4 && m.runName == "run")
        #expect(m.validationLoss.map(\.step) == [0, 1, 3])
        let folder = world.root.appendingPathComponent("adapters/run")
        #expect(m.checkpointPaths.last == folder.appendingPathComponent("adapters.safetensors").path)
        #expect(m.baseModelPath == world.model.path)
        // The log on disk holds the same run, from its start event.
        let logged = try TrainLog.read(folder.appendingPathComponent("train-log.jsonl"))
        #expect(logged.first == .started(step: 0, totalSteps: 4))
        #expect(logged.compactMap { if case .trainReport(let r) = $0 { r.step } else { nil } } == [1, 2, 3, 4])
        // Training the same config through the shared preparation gives the same losses.
        let config = try TrainService.config(for: request(iters: 4, folder: "adapters/check"), paths: world.paths)
        let prepared = try PreparedTrainingRun.prepare(config: config)
        var losses: [Double] = []
        _ = try prepared.train(onEvent: { if case .trainReport(let r) = $0 { losses.append(r.loss) } })
        #expect(losses == m.trainLoss.map(\.value))
    }

    @Test("stop ends the run after the current iteration with its adapter saved; resume starts from that adapter")
    func stopAndResume() throws {
        service.handle(.start(request(iters: 100_000)))
        try inbox.settle("training") { $0.train.model.trainLoss.count >= 2 }
        service.handle(.start(request(iters: 3)))
        try inbox.settle("refused") { $0.notice?.contains("a run is in progress") == true }
        service.handle(.stop)
        try inbox.settle("stopped") { $0.train.model.status?.hasPrefix("stopped at iteration") == true }
        let stopped = inbox.workbench.train.model
        #expect(!stopped.isRunning)
        let folder = world.root.appendingPathComponent("adapters/run")
        #expect(stopped.checkpointPaths.contains(folder.path))
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("adapters.safetensors").path))
        #expect(!service.isRunning)

        service.handle(.resume)
        try inbox.settle("resumed run trains") { $0.train.model.isRunning && !$0.train.model.trainLoss.isEmpty }
        #expect(inbox.workbench.train.model.lastRequest?.values["resume_adapter_file"]
            == folder.appendingPathComponent("adapters.safetensors").path)
        service.handle(.stop)
        try inbox.settle("stopped again") { $0.train.model.status?.hasPrefix("stopped at iteration") == true }
    }

    @Test("a bad form value fails the run with the key named; nothing to resume says so")
    func failures() throws {
        service.handle(.resume)
        try inbox.settle("nothing to resume") { $0.notice?.contains("nothing to resume") == true }
        var bad = request(iters: 2)
        bad.values["batch_size"] = "many"
        service.handle(.start(bad))
        try inbox.settle("failed") { $0.train.model.status?.hasPrefix("failed") == true }
        #expect(inbox.workbench.train.model.status?.contains("batch_size") == true)
        var missing = request(iters: 2)
        missing.values["data"] = world.root.appendingPathComponent("nowhere").path
        service.handle(.start(missing))
        try inbox.settle("failed on data") { $0.train.model.status?.contains("nowhere") == true }
    }
}
