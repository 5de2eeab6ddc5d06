import Foundation
import LEMCore
import LEMTrainer
import Panels
import Testing

@testable import LEMApp

@Suite("TrainService", .serialized)
struct TrainServiceTests: ServiceSuite {
    let harness: ServiceHarness<TrainService>

    init() throws { harness = try ServiceHarness { TrainService(context: $0.context, inbox: $1) } }

    func request(iters: Int, folder: String = "adapters/run") -> TrainRunRequest {
        TrainRunRequest(values: [
            "model": world.model.path, "data": world.dataFolder.path, "iters": "\(iters)", "batch_size": "2",
            "num_layers": "1", "max_seq_length": "32", "adapter_path": world.root.appendingPathComponent(folder).path,
            "steps_per_report": "1", "steps_per_eval": "2", "save_every": "2", "learning_rate": "1e-3"
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
        // Each validation is announced before it runs (the panel shows "validating…").
        let validations = logged.compactMap { e -> String? in
            switch e {
            case .validating(let s): "v\(s)"
            case .validation(let s, _, _): "=\(s)"
            default: nil
            }
        }
        #expect(validations == ["v0", "=0", "v1", "=1", "v3", "=3"])
        #expect(!m.isValidating)
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
        // The panel hears "stopped" from inside the run; the service is free once the run returns.
        let deadline = Date().addingTimeInterval(30)
        while service.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(!service.isRunning)

        let stoppedAt = stopped.step
        let pointsBefore = stopped.trainLoss.count
        service.handle(.resume)
        try inbox.settle("resumed run trains") {
            $0.train.model.isRunning && $0.train.model.trainLoss.count > pointsBefore
        }
        #expect(
            inbox.workbench.train.model.lastRequest?.values["resume_adapter_file"]
                == folder.appendingPathComponent("adapters.safetensors").path)
        service.handle(.stop)
        try inbox.settle("stopped again") {
            !$0.train.model.isRunning && $0.train.model.status?.hasPrefix("stopped at iteration") == true
        }
        // The panel's curve goes on from where it stopped, and so do the log and the count.
        let resumed = inbox.workbench.train.model
        #expect(resumed.trainLoss.first?.step == 1 && resumed.trainLoss.count > pointsBefore)
        #expect(resumed.trainLoss.map(\.step) == resumed.trainLoss.map(\.step).sorted())
        let logged = try TrainLog.read(folder.appendingPathComponent("train-log.jsonl"))
        let starts = logged.compactMap { if case .started(let s, _) = $0 { s } else { nil } }
        #expect(starts == [0, stoppedAt], "the log was not continued: \(starts)")
        let reports = logged.compactMap { if case .trainReport(let r) = $0 { r.step } else { nil } }
        #expect(reports == Array(1...reports.count), "the iteration count restarted: \(reports)")
    }

    @Test(
        "a YAML config's values replace the form's defaults (paths relative to the file), typed rows win, and the run writes where the file says"
    )
    func configWinsOverTheFormsDefaults() throws {
        let recipes = world.root.appendingPathComponent("recipes")
        try FileManager.default.createDirectory(at: recipes, withIntermediateDirectories: true)
        let yaml = recipes.appendingPathComponent("tiny.yaml")
        try Data(
            """
            model: ../models/tiny-chat
            data: ../data
            adapter_path: ../runs/from-yaml
            iters: 3
            num_layers: 1
            batch_size: 2
            max_seq_length: 32
            steps_per_eval: 2
            save_every: 2
            learning_rate: 1.0e-3
            """.utf8
        ).write(to: yaml)
        service.start()
        try inbox.settle("adapter root") { $0.train.model.adapterRoot == world.paths.adapters.path }
        // Open the form, type the config path; the form shows the file's values.
        let screen = Rect(x: 0, y: 0, width: 100, height: 30)
        inbox.workbench.selected = .train
        var intents: [WorkbenchIntent] = []
        let keys = [KeyEvent.char("n"), KeyEvent(.enter)] + yaml.path.map { KeyEvent.char($0) } + [KeyEvent(.enter)]
        for k in keys {
            _ = inbox.workbench.handle(.key(k), screen: screen) { intents.append($0) }
        }
        #expect(intents == [.train(.readConfig(yaml.path))])
        service.handle(.readConfig(yaml.path))
        try inbox.settle("config shown") { $0.train.formRequest?.defaults["iters"] == "3" }
        let request = try #require(inbox.workbench.train.formRequest)
        #expect(request.defaults["data"] == world.dataFolder.path)
        #expect(request.defaults["adapter_path"] == world.root.appendingPathComponent("runs/from-yaml").path)
        #expect(request.defaults["steps_per_report"] == "1", "the form's own default stays where the file says nothing")
        // Typed values still win over the file.
        var typed = request
        typed.values["iters"] = "2"
        let config = try TrainService.config(for: typed, paths: world.paths)
        #expect(config.iters == 2 && config.numLayers == 1 && config.maxSeqLength == 32 && config.stepsPerReport == 1)
        #expect(config.adapterPath == world.root.appendingPathComponent("runs/from-yaml").path)
        // Without a file, the default adapter folder is under the adapters root, numbered when taken.
        let plain = TrainRunRequest(
            values: ["model": world.model.path, "data": world.dataFolder.path],
            defaults: ["adapter_path": world.paths.adapters.appendingPathComponent("tiny-chat-lora").path])
        #expect(
            try TrainService.config(for: plain, paths: world.paths).adapterPath.hasSuffix("adapters/tiny-chat-lora"))
        service.handle(.start(request))
        try inbox.settle("finished") { $0.train.model.status?.hasPrefix("finished") == true }
        let log = world.root.appendingPathComponent("runs/from-yaml/train-log.jsonl")
        let reports = try TrainLog.read(log).compactMap { if case .trainReport(let r) = $0 { r.step } else { nil } }
        #expect(reports == [1, 2, 3])
        try FileManager.default.createDirectory(
            at: world.paths.adapters.appendingPathComponent("tiny-chat-lora"),
            withIntermediateDirectories: true)
        try Data().write(to: world.paths.adapters.appendingPathComponent("tiny-chat-lora/train-log.jsonl"))
        #expect(
            try TrainService.config(for: plain, paths: world.paths).adapterPath.hasSuffix("adapters/tiny-chat-lora-2"))
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
