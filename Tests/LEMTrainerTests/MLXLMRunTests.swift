import Foundation
import LEMCore
import LEMEngine
import LEMFormats
import TestSupport
import Testing

@testable import LEMTrainer

/// `lem train --backend mlx_lm`: a fake `mlx_lm` replaying captured output (runs everywhere),
/// and the real one when the reference venv is installed.
@Suite struct MLXLMRunTests {
    static let model = TestPaths.fixture("engine/llama3_tiny")
    static let textData = TestPaths.fixture("trainer/export/text")
    static let realMLXLM = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(
        ".cache/lem-refs/mlx/bin/mlx_lm")

    static func config(adapters: URL, iters: Int = 6) throws -> TrainingConfig {
        try TrainingConfig(
            yaml: """
                model: \(model.path)
                data: \(textData.path)
                train: true
                num_layers: 2
                batch_size: 2
                iters: \(iters)
                steps_per_report: 2
                steps_per_eval: 2
                val_batches: 2
                save_every: 2
                learning_rate: 1e-4
                lora_parameters: {rank: 4, scale: 10.0, dropout: 0.0}
                adapter_path: \(adapters.path)

                """)
    }

    /// Collects what a run hands its callbacks.
    final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var kept: [String] = []
        func append(_ line: String) { lock.withLock { kept.append(line) } }
        var lines: [String] { lock.withLock { kept } }
    }

    @Test func fakeMLXLMRunIsLoggedAsLemsOwnEvents() throws {
        try TemporaryFolder.with("mlx-run-fake") { dir in
            let adapters = dir.appendingPathComponent("adapters")
            let run = try MLXLMRun(
                config: try Self.config(adapters: adapters), executable: try FakeMLXLM.script(in: dir))
            var events: [TrainingEvent] = []
            let output = Collected()
            let finished = try run.run(
                environment: ["PATH": "/usr/bin:/bin"], onEvent: { events.append($0) }, onOutput: { output.append($0) })
            #expect(finished)
            let logged = try TrainLog.read(adapters.appendingPathComponent("train-log.jsonl"))
            #expect(logged == events)
            #expect(events.first == .started(step: 0, totalSteps: 6))
            #expect(
                events.last == .finished(step: 6, path: adapters.appendingPathComponent("adapters.safetensors").path))
            #expect(events.filter { $0.name == "validation" }.map(\.step) == [0, 2, 5])
            #expect(events.filter { $0.name == "train" }.map(\.step) == [2, 4, 6])
            #expect(
                events.contains(
                    .saved(step: 4, path: adapters.appendingPathComponent("0000004_adapters.safetensors").path)))
            #expect(output.lines.contains("fake warning on stderr"))
            #expect(output.lines.contains { $0.hasPrefix("Trainable parameters: 5.257%") })
            #expect(
                try Data(contentsOf: adapters.appendingPathComponent("adapters.safetensors"))
                    == Data(contentsOf: TestPaths.fixture("trainer/mlx_adapter/adapters.safetensors")))
            // mlx_lm got the model's local path and an exported data folder, removed afterwards.
            let seen = try TrainingConfig(yamlFile: adapters.appendingPathComponent("seen-config.yaml"))
            #expect(seen.model == Self.model.path && seen.adapterPath == adapters.path)
            let data = try #require(seen.data)
            #expect(data.hasSuffix("/run/data") && !FileManager.default.fileExists(atPath: data))
        }
    }

    @Test func failingMLXLMIsAnErrorWithItsLastLines() throws {
        try TemporaryFolder.with("mlx-run-fail") { dir in
            let adapters = dir.appendingPathComponent("adapters")
            let fake = try FakeMLXLM.script(in: dir, lines: 16, status: 3)
            let run = try MLXLMRun(config: try Self.config(adapters: adapters), executable: fake)
            let message = errorMessage { try run.run(environment: ["PATH": "/usr/bin:/bin"]) }
            #expect(
                message
                    == "\(fake.path) lora -c config.yaml exited with status 3:\n"
                    + "fake warning on stderr\nValueError: boom"
            )
            let logged = try TrainLog.read(adapters.appendingPathComponent("train-log.jsonl"))
            #expect(logged.last == .failed(step: 2, message: "\(fake.path) lora -c config.yaml exited with status 3"))
        }
    }

    @Test func aStopRequestEndsTheChild() throws {
        try TemporaryFolder.with("mlx-run-stop") { dir in
            let adapters = dir.appendingPathComponent("adapters")
            let fake = try FakeMLXLM.script(in: dir, lines: 16, hold: 60)
            let run = try MLXLMRun(config: try Self.config(adapters: adapters), executable: fake)
            let stop = Collected()  // stopped once a training report arrived
            let start = Date()
            let finished = try run.run(
                environment: ["PATH": "/usr/bin:/bin"], isCancelled: { !stop.lines.isEmpty },
                onEvent: { if $0.name == "train" { stop.append("stop") } })
            #expect(!finished)
            #expect(Date().timeIntervalSince(start) < 30)
            let logged = try TrainLog.read(adapters.appendingPathComponent("train-log.jsonl"))
            #expect(logged.last == .failed(step: 2, message: TrainingEvent.cancelledMessage))
        }
    }

    @Test func findsTheExecutableByFlagVariableOrPath() throws {
        try TemporaryFolder.with("mlx-run-find") { dir in
            let fake = try FakeMLXLM.script(in: dir)
            #expect(try MLXLMRun.findExecutable(explicit: fake.path, environment: [:]) == fake)
            #expect(try MLXLMRun.findExecutable(explicit: nil, environment: ["LEM_MLX_LM": fake.path]) == fake)
            #expect(try MLXLMRun.findExecutable(explicit: nil, environment: ["PATH": "/nowhere:\(dir.path)"]) == fake)
            #expect(
                errorMessage { try MLXLMRun.findExecutable(explicit: nil, environment: ["PATH": "/nowhere"]) }
                    .hasPrefix("no mlx_lm executable on PATH"))
            #expect(
                errorMessage { try MLXLMRun.findExecutable(explicit: "/nowhere/mlx_lm", environment: [:]) }
                    == "--mlx-lm /nowhere/mlx_lm: not an executable file")
        }
    }

    @Test(
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: realMLXLM.path),
            """
            no mlx_lm: python3 -m venv ~/.cache/lem-refs/mlx && \
            ~/.cache/lem-refs/mlx/bin/pip install 'mlx[cpu]' mlx-lm
            """
        ))
    func realMLXLMTrainsAnAdapterLemLoads() throws {
        try TemporaryFolder.with("mlx-run-real") { dir in
            let adapters = dir.appendingPathComponent("adapters")
            let run = try MLXLMRun(config: try Self.config(adapters: adapters, iters: 4), executable: Self.realMLXLM)
            let output = Collected()
            let finished = try run.run(
                environment: ProcessInfo.processInfo.environment, onOutput: { output.append($0) })
            #expect(finished, "\(output.lines.suffix(20))")
            let logged = try TrainLog.read(adapters.appendingPathComponent("train-log.jsonl"))
            #expect(logged.filter { $0.name == "train" }.map(\.step) == [2, 4])
            #expect(logged.filter { $0.name == "validation" }.map(\.step) == [0, 1, 3])
            #expect(
                logged.contains(
                    .saved(step: 2, path: adapters.appendingPathComponent("0000002_adapters.safetensors").path)))
            for case .trainReport(let r) in logged { #expect(r.loss.isFinite && r.loss > 0) }
            #expect(logged.last?.name == "finished")
            // lem loads the adapter mlx_lm wrote: 2 blocks × 7 linear layers, over the model.
            let adapter = try InferenceAdapter(folder: adapters)
            #expect(adapter.modules.count == 14)
            _ = try ModelFactory.load(Self.model, adapterFolder: adapters)
        }
    }
}
