import ArgumentParser
import Foundation
import LEMApp
import LEMCore
import LEMTrainer

/// Who runs a `lem train`: this trainer, or mlx_lm as a child process.
enum TrainBackend: String, ExpressibleByArgument, CaseIterable {
    case lem
    case mlxLM = "mlx_lm"
}

extension TrainCommand {
    /// The resolved config with `model: ORG/NAME` looked up in the Hugging Face cache, as `run` does.
    func externalConfig(in context: AppContext) throws -> TrainingConfig {
        var resolved = try resolvedConfig()
        resolved.model = resolved.model.map(context.cachedModelPath)
        return resolved
    }

    /// `--export FORMAT DIR`: the run written for mlx_lm or TRL, nothing trained.
    func runExport(in context: AppContext) throws {
        guard export.count == 2, let format = TrainingExport.Format(rawValue: export[0]) else {
            throw ValidationError(
                "--export takes a format and a folder: --export mlx_lm DIR or --export trl DIR (got "
                    + export.joined(separator: " ") + ")")
        }
        let exported: TrainingExport
        do {
            exported = try TrainingExport.prepare(
                config: try externalConfig(in: context), format: format, maxGradNorm: maxGradNorm)
        } catch TrainingConfigError.incomplete(let message) {
            throw ValidationError(message)
        }
        for problem in exported.problems { printError("warning: " + problem) }
        if let note = exported.model.localNote { printError("note: " + note) }
        let folder = context.paths.resolve(export[1]).standardizedFileURL
        try exported.write(to: folder)
        let command = format == .mlxLM ? "mlx_lm lora -c" : "trl sft --config"
        print(
            "wrote \(folder.path) (config.yaml, data/, launch.sh, README.md); "
                + "run: \(command) \(folder.path)/config.yaml"
        )
    }

    /// `--backend mlx_lm`: the run trained by an installed mlx_lm, its progress as lem's events.
    func runMLXLM(in context: AppContext) throws {
        let config = try externalConfig(in: context)
        guard config.train else { throw ValidationError("--backend mlx_lm trains: give --train (or train: true)") }
        let executable = try MLXLMRun.findExecutable(explicit: mlxLM, environment: context.environment)
        let run: MLXLMRun
        do {
            run = try MLXLMRun(config: config, executable: executable)
        } catch TrainingConfigError.incomplete(let message) {
            throw ValidationError(message)
        }
        printError(
            "training with \(executable.path) lora; events in "
                + run.adapterFolder.appendingPathComponent("train-log.jsonl").path)
        let finished = try Self.withInterrupts { stop in
            try run.run(
                environment: context.environment, isCancelled: { stop.isSet }, onEvent: Self.printEvent,
                onOutput: { line in
                    // mlx_lm's test result is the run's answer, on stdout as lem train prints it.
                    if line.hasPrefix("Test loss ") { print(line) } else { printError(line) }
                })
        }
        if !finished { throw ExitCode(130) }
    }
}
