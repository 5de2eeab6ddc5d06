import Foundation
import LEMEngine
import TestSupport
import Testing

@testable import LEMTrainer

/// The TRL export run by the real `trl sft --config` (when the reference venv is installed): TRL
/// accepts every key, trains the adapted blocks only, and lem loads the PEFT adapter it writes.
@Suite struct TRLExportRunTests {
    static let trl = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(
        ".cache/lem-refs/trl/bin/trl")

    @Test(
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: trl.path),
            """
            no trl: python3 -m venv ~/.cache/lem-refs/trl && ~/.cache/lem-refs/trl/bin/pip install \
            torch trl peft datasets accelerate (a CPU torch wheel is enough)
            """
        ))
    func trlTrainsTheExportAndLemLoadsItsAdapter() throws {
        try TemporaryFolder.with("trl-export-run") { dir in
            let model = TestPaths.fixture("engine/llama3_tiny")
            var config = try TrainingConfig(
                yaml: """
                    model: \(model.path)
                    data: \(TestPaths.fixture("trainer/export/text").path)
                    num_layers: 2
                    batch_size: 2
                    iters: 3
                    steps_per_report: 1
                    steps_per_eval: 3
                    save_every: 3
                    learning_rate: 1e-4
                    lora_parameters: {rank: 4, scale: 10.0, dropout: 0.0}

                    """)
            config.seed = 1
            let folder = dir.appendingPathComponent("trl")
            try TrainingExport.prepare(config: config, format: .trl).write(to: folder)

            let log = dir.appendingPathComponent("trl.log")
            try Data().write(to: log)
            let output = try FileHandle(forWritingTo: log)
            let process = Process()
            process.executableURL = Self.trl
            // The export is for GPUs; this machine has none.
            process.arguments = [
                "sft", "--config", folder.appendingPathComponent("config.yaml").path, "--bf16", "false", "--use_cpu",
                "true"
            ]
            var environment = ProcessInfo.processInfo.environment
            environment["HF_HUB_OFFLINE"] = "1"
            process.environment = environment
            process.standardOutput = output
            process.standardError = output
            try process.run()
            process.waitUntilExit()
            try output.close()
            let text = try String(contentsOf: log, encoding: .utf8)
            try #require(process.terminationStatus == 0, "\(text.suffix(3000))")

            let adapter = try InferenceAdapter(folder: folder.appendingPathComponent("adapters"))
            #expect(adapter.format == .peft)
            // Blocks 1 and 2 of three, seven linear layers each, PEFT's scale alpha / r = mlx_lm's 10.
            #expect(adapter.modules.count == 14)
            #expect(adapter.modules.keys.allSatisfy { !$0.contains(".layers.0.") })
            #expect(adapter.modules.values.allSatisfy { $0.rank == 4 && $0.scale == 10 })
            _ = try ModelFactory.load(model, adapterFolder: folder.appendingPathComponent("adapters"))
        }
    }
}
