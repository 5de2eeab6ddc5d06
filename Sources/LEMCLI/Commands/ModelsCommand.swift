import ArgumentParser
import Foundation
import LEMApp
import LEMEngine
import LEMFormats

/// `lem models`: the models installed in the models directory.
struct ModelsCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "models", abstract: "List installed models (in $LEM_HOME/models or ~/.cache/lem/models).")

    @Option(help: "Directory to list instead of the default models directory.") var directory: String?

    func run(in context: AppContext) async throws {
        let dir = directory.map { context.paths.resolve($0) } ?? context.paths.models
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        let candidates = names.sorted().map { dir.appendingPathComponent($0) }.filter { url in
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir)
            return url.pathExtension.lowercased() == "gguf"
                || (isDir.boolValue && FileManager.default.fileExists(atPath: url.appendingPathComponent("config.json").path))
        }
        if candidates.isEmpty {
            print("no models in \(dir.path) (run Scripts/setup.sh)")
            return
        }
        for url in candidates {
            do {
                let files = try ModelFiles.open(url)
                let c = files.config
                let mb = Double(files.storedBytes) / 1_048_576
                let supported = ModelFactory.supportedTypes.contains(c.modelType) ? "" : "  (unsupported architecture)"
                print(
                    String(
                        format: "%@  %@  %@, %d layers, hidden %d, vocab %d, %.0f MB%@", url.lastPathComponent,
                        files.format.rawValue, c.modelType, c.numHiddenLayers, c.hiddenSize, c.vocabSize, mb, supported))
            } catch {
                print("\(url.lastPathComponent)  unreadable: \(error)")
            }
        }
    }
}
