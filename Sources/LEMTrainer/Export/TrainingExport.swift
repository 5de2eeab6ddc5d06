import Foundation
import LEMCore
import LEMFormats

/// A `lem train` run written out for another trainer (`lem train --export mlx_lm|trl DIR`): a
/// config file that trainer reads, the data in its format, a README and a `launch.sh`.
///
/// The inputs are checked exactly as a run here checks them (`PreparedTrainingRun.checkInputs`),
/// so a bad line stops the export too. The folder is written whole or not at all: the files go
/// into a hidden sibling folder that is renamed into place; an existing folder that is not empty
/// is refused (as `lem fuse` refuses an existing output).
public struct TrainingExport: Sendable {
    /// The trainers a run can be exported for.
    public enum Format: String, Sendable, CaseIterable {
        /// `mlx_lm lora -c config.yaml` (Apple silicon; several Macs through `mlx.launch`).
        case mlxLM = "mlx_lm"
        /// `trl sft --config config.yaml` with PEFT LoRA (CUDA machines through Accelerate).
        case trl
    }

    /// One file of the exported folder, by its path inside it.
    struct File {
        var name: String
        var contents: String
        var executable = false
    }

    public let format: Format
    /// The run's options (`train` set: an export is always a training run).
    public let config: TrainingConfig
    public let model: ExportedModel
    public let data: DatasetFolder
    /// `--max-grad-norm`, a `lem train` option outside the mlx_lm config.
    public let maxGradNorm: Double?
    /// Why the exported run will not start as written (a GGUF model, MLX weights for TRL); also
    /// at the top of the README. Empty when it should.
    public let problems: [String]

    /// Checks `config` and its data for an export to `format`.
    public static func prepare(config: TrainingConfig, format: Format, maxGradNorm: Double? = nil) throws
        -> TrainingExport
    {
        var config = config
        config.train = true
        let (modelSpec, data) = try PreparedTrainingRun.checkInputs(config)
        let model = ExportedModel(modelSpec)
        return TrainingExport(
            format: format, config: config, model: model, data: data, maxGradNorm: maxGradNorm,
            problems: model.problem(for: format).map { [$0] } ?? [])
    }

    /// Writes the export to `folder` (created; refused when it exists and is not empty).
    /// `preferLocalModel` writes a Hub snapshot's local path instead of `ORG/NAME` (a run on this
    /// machine, offline).
    public func write(to folder: URL, preferLocalModel: Bool = false) throws {
        let destination = folder.standardizedFileURL
        let manager = FileManager.default
        var isFolder: ObjCBool = false
        if manager.fileExists(atPath: destination.path, isDirectory: &isFolder) {
            guard isFolder.boolValue else { throw TrainingExportError.notAFolder(destination.path) }
            let contents = try manager.contentsOfDirectory(atPath: destination.path)
            guard contents.isEmpty else { throw TrainingExportError.notEmpty(destination.path) }
        }
        let parent = destination.deletingLastPathComponent()
        try manager.createDirectory(at: parent, withIntermediateDirectories: true)
        let temp = parent.appendingPathComponent(".\(destination.lastPathComponent).tmp-\(UUID().uuidString)")
        do {
            try manager.createDirectory(at: temp, withIntermediateDirectories: false)
            for file in files(folder: destination, preferLocalModel: preferLocalModel) {
                let url = temp.appendingPathComponent(file.name)
                try manager.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(file.contents.utf8).write(to: url)
                if file.executable { try manager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path) }
            }
            // rename(2) replaces an empty folder and fails on a non-empty one, so a folder filled
            // since the check above is not overwritten.
            guard rename(temp.path, destination.path) == 0 else {
                throw TrainingExportError.cannotWrite(destination.path, String(cString: strerror(errno)))
            }
        } catch {
            try? manager.removeItem(at: temp)
            throw error
        }
    }

    /// Every file of the export for the final folder `folder` (paths inside the config are
    /// absolute, so `mlx_lm lora -c DIR/config.yaml` works from any working folder).
    func files(folder: URL, preferLocalModel: Bool) -> [File] {
        let dataFolder = folder.appendingPathComponent("data")
        var files: [File] = []
        for (name, split) in [("train", data.train), ("valid", data.valid), ("test", data.test)] {
            guard let split, split.count > 0 else { continue }
            files.append(File(name: "data/\(name).jsonl", contents: dataLines(split)))
        }
        let modelName = model.reference(preferLocal: preferLocalModel)
        switch format {
        case .mlxLM:
            let (yaml, notes) = mlxLMConfig(model: modelName, data: dataFolder.path, adapters: adapterPath(in: folder))
            files.append(File(name: "config.yaml", contents: yaml))
            files.append(File(name: "launch.sh", contents: mlxLMLaunchScript(folder: folder), executable: true))
            files.append(File(name: "README.md", contents: readme(folder: folder, notes: notes)))
        case .trl:
            let (yaml, notes) = trlConfig(model: modelName, data: dataFolder.path, output: adapterPath(in: folder))
            files.append(File(name: "config.yaml", contents: yaml))
            files.append(File(name: "launch.sh", contents: trlLaunchScript(), executable: true))
            files.append(File(name: "README.md", contents: readme(folder: folder, notes: notes)))
        }
        return files
    }

    /// Where the other trainer writes its adapter: the configured `adapter_path` when one was
    /// given (made absolute), else `<folder>/adapters`.
    func adapterPath(in folder: URL) -> String {
        guard config.givenKeys.contains("adapter_path") else { return folder.appendingPathComponent("adapters").path }
        return Self.absolute(config.adapterPath)
    }

    /// `path` with `~` expanded, made absolute against the working folder.
    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: (path as NSString).expandingTildeInPath).standardizedFileURL.path
    }

    /// What `lem train` does that the exported config cannot say, for either trainer.
    var lemOnlyNotes: [String] {
        var notes: [String] = []
        if config.probeEvery > 0 { notes.append("checkpoint probes (probe_every) are lem's own and are not exported") }
        if config.earlyStoppingPatience > 0 {
            notes.append("early stopping (early_stopping_patience) is lem's own and is not exported")
        }
        return notes
    }
}

/// Why an export or an external training run failed.
public enum TrainingExportError: Error, Equatable, LocalizedError, CustomStringConvertible {
    /// The destination exists and holds files.
    case notEmpty(String)
    /// The destination exists and is a file.
    case notAFolder(String)
    /// The finished folder could not be moved into place.
    case cannotWrite(String, String)
    /// No `mlx_lm` executable was found.
    case noExecutable(String)
    /// The model cannot be trained by the other tool.
    case unusableModel(String)
    /// The other trainer exited with a failure: the command, its status and its last lines.
    case failed(command: String, status: Int32, lastLines: [String])

    /// The message: at most 4 KB, control characters escaped.
    public var errorDescription: String? { ErrorText.bounded(text) }

    /// The same message, for string interpolation.
    public var description: String { ErrorText.bounded(text) }

    private var text: String {
        switch self {
        case .notEmpty(let path): return "\(path): exists and is not empty; choose a new folder or remove it first"
        case .notAFolder(let path): return "\(path): exists and is not a folder"
        case .cannotWrite(let path, let reason): return "\(path): cannot move the export into place: \(reason)"
        case .noExecutable(let message), .unusableModel(let message): return message
        case .failed(let command, let status, let lines):
            let tail = lines.isEmpty ? " (no output on stderr)" : ":\n" + lines.joined(separator: "\n")
            return "\(command) exited with status \(status)" + tail
        }
    }
}
