import Foundation

/// Turns an adapter path into a folder the engine reads: a folder as it is; a checkpoint file
/// (`0000100_adapters.safetensors`, written by a run) as a temporary folder that links the
/// checkpoint as `adapters.safetensors` beside its run's `adapter_config.json`.
enum AdapterFolder {
    /// The folder to load for `url`.
    static func resolve(_ url: URL) throws -> URL {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw ValidationErrorText("no adapter at \(url.path)")
        }
        if isDirectory.boolValue { return url }
        let run = url.deletingLastPathComponent()
        let config = run.appendingPathComponent("adapter_config.json")
        guard FileManager.default.fileExists(atPath: config.path) else {
            throw ValidationErrorText("\(url.path): a checkpoint file needs its run's adapter_config.json beside it")
        }
        let stage = FileManager.default.temporaryDirectory
            .appendingPathComponent("lem-checkpoint-\(getpid())-\(run.lastPathComponent)-\(url.deletingPathExtension().lastPathComponent)")
        try? FileManager.default.removeItem(at: stage)
        try FileManager.default.createDirectory(at: stage, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: stage.appendingPathComponent("adapter_config.json"), withDestinationURL: config)
        try FileManager.default.createSymbolicLink(at: stage.appendingPathComponent("adapters.safetensors"), withDestinationURL: url)
        return stage
    }
}
