import Foundation
import LEMCore
import LEMTrainer
import Testing

/// Where a resumed run continues, and config files that mean the same from any folder.
@Suite struct ResumeStepTests {
    func folder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lem-resume-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func aCheckpointsNameOrTheLogBesideTheAdapterGivesTheStep() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(
            PreparedTrainingRun.resumeStep(for: dir.appendingPathComponent(LoRAAdapter.checkpointFile(step: 40))) == 40)
        let adapter = dir.appendingPathComponent(LoRAAdapter.weightsFile)
        #expect(PreparedTrainingRun.resumeStep(for: adapter) == 0)
        let events: [TrainingEvent] = [
            .started(step: 0, totalSteps: 100), .trainReport(.init(step: 10, loss: 2)), .saved(step: 20, path: "x"),
            .failed(step: 23, message: TrainingEvent.cancelledMessage)
        ]
        try Data((events.map(\.jsonLine).joined(separator: "\n") + "\n").utf8).write(
            to: dir.appendingPathComponent("train-log.jsonl"))
        #expect(PreparedTrainingRun.resumeStep(for: adapter) == 23)
    }

    @Test func aConfigFilesRelativePathsAreRelativeToTheFile() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let recipes = dir.appendingPathComponent("recipes")
        try FileManager.default.createDirectory(at: recipes, withIntermediateDirectories: true)
        let file = recipes.appendingPathComponent("r.yaml")
        try Data("model: ../models/m.gguf\ndata: data\nadapter_path: ../out/run\nprobe_prompts: /abs/p.txt\n".utf8)
            .write(to: file)
        let c = try TrainingConfig(yamlFile: file)
        #expect(c.model == dir.appendingPathComponent("models/m.gguf").path)
        #expect(c.data == recipes.appendingPathComponent("data").path)
        #expect(c.adapterPath == dir.appendingPathComponent("out/run").path)
        #expect(c.probePrompts == "/abs/p.txt")
        #expect(c.givenKeys == ["model", "data", "adapter_path", "probe_prompts"])
        // What the file does not name keeps mlx_lm's default; `~` is left for the reader.
        try Data("model: ~/m.gguf\n".utf8).write(to: file)
        let d = try TrainingConfig(yamlFile: file)
        #expect(d.model == "~/m.gguf" && d.adapterPath == "adapters")
    }
}
