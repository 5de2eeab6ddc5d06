import Foundation
import LEMCore
import LEMTrainer
import TestSupport
import Testing

/// `lem train --export` and `--backend mlx_lm` through the built binary: the flags reach the
/// exporter, refusals and warnings reach the user, a fake mlx_lm's run reaches stdout and the log.
@Suite struct TrainExportCommandTests {
    static let lem = LemCommand.binary
    static let model = TestPaths.fixture("engine/llama3_tiny")
    static let chatData = TestPaths.fixture("trainer/export/chat")

    @Test(.enabled(if: lem != nil, "lem is not built: run swift build"))
    func exportWritesAFolderOnceAndNamesAGGUFModel() throws {
        try TemporaryFolder.with("lem-export-cli") { dir in
            let folder = dir.appendingPathComponent("trl")
            let arguments = [
                "train", "--model", Self.model.path, "--data", Self.chatData.path, "--batch-size", "2", "--iters", "5",
                "--export", "trl", folder.path
            ]
            let first = try LemCommand.run(arguments)
            #expect(first.status == 0, "stderr: \(first.err)")
            #expect(first.out.contains("run: trl sft --config \(folder.path)/config.yaml"))
            #expect(first.err.contains("note: the model is a local folder"))
            let config = try String(contentsOf: folder.appendingPathComponent("config.yaml"), encoding: .utf8)
            #expect(config.contains("max_steps: 5\n") && config.contains("per_device_train_batch_size: 2\n"))
            let again = try LemCommand.run(arguments)
            #expect(again.status != 0)
            #expect(again.err.contains("\(folder.path): exists and is not empty"), "stderr: \(again.err)")

            let gguf = Self.model.appendingPathComponent("model-q8_0.gguf").path
            let mlx = try LemCommand.run([
                "train", "--model", gguf, "--data", Self.chatData.path, "--batch-size", "2", "--export", "mlx_lm",
                dir.appendingPathComponent("mlx").path
            ])
            #expect(mlx.status == 0, "stderr: \(mlx.err)")
            #expect(mlx.err.contains("warning: mlx_lm cannot train on a GGUF file (\(gguf))"), "stderr: \(mlx.err)")

            let bad = try LemCommand.run(["train", "--model", Self.model.path, "--export", "axolotl", folder.path])
            #expect(bad.status != 0 && bad.err.contains("--export takes a format and a folder"), "stderr: \(bad.err)")
        }
    }

    @Test(.enabled(if: lem != nil, "lem is not built: run swift build"))
    func mlxLMBackendRunsTheGivenExecutable() throws {
        try TemporaryFolder.with("lem-mlx-backend-cli") { dir in
            let adapters = dir.appendingPathComponent("adapters")
            let result = try LemCommand.run([
                "train", "--model", Self.model.path, "--data", TestPaths.fixture("trainer/export/text").path,
                "--train", "--batch-size", "2", "--iters", "6", "--adapter-path", adapters.path,
                "--backend", "mlx_lm", "--mlx-lm", try FakeMLXLM.script(in: dir).path
            ])
            #expect(result.status == 0, "stderr: \(result.err)")
            #expect(result.out.contains("Iter 1: Val loss 7.211, Val took 1.700s"), "stdout: \(result.out)")
            #expect(result.out.contains("Iter 2: Train loss 7.159, Tokens/sec 18.0, Trained Tokens 100\n"))
            #expect(
                result.out.contains("Iter 4: Saved adapter weights to \(adapters.path)/0000004_adapters.safetensors"))
            #expect(result.err.contains("fake warning on stderr") && result.err.contains("Trainable parameters"))
            let events = try TrainLog.read(adapters.appendingPathComponent("train-log.jsonl"))
            #expect(events.map(\.name).filter { $0 == "train" }.count == 3)
            #expect(
                events.last == .finished(step: 6, path: adapters.appendingPathComponent("adapters.safetensors").path))
        }
    }
}
