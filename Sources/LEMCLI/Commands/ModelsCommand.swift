import ArgumentParser
import Foundation
import LEMApp
import LEMEngine
import LEMFormats

/// `lem models`: the models installed in the models directory and in the Hugging Face cache.
struct ModelsCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List installed models ($LEM_HOME/models or ~/.cache/lem/models, then the Hugging Face cache).")

    @Option(help: "Directory to list instead of the default models directory and the Hugging Face cache.")
    var directory: String?

    func run(in context: AppContext) async throws {
        let dir = directory.map { context.paths.resolve($0) } ?? context.paths.models
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        var candidates: [(name: String, url: URL)] = names.sorted().map { ($0, dir.appendingPathComponent($0)) }.filter
        {
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: $0.url.path, isDirectory: &isDir)
            return $0.url.pathExtension.lowercased() == "gguf"
                || (isDir.boolValue
                    && FileManager.default.fileExists(atPath: $0.url.appendingPathComponent("config.json").path))
        }
        if directory == nil {
            // Hugging Face cache: the latest snapshot of each repository, named as --model takes it.
            for snap in context.hubCache.snapshots() {
                for url in HubCache.models(in: snap) {
                    candidates.append((url == snap.url ? snap.repo : "\(snap.repo)/\(url.lastPathComponent)", url))
                }
            }
        }
        if candidates.isEmpty {
            let hub = directory == nil ? " or the Hugging Face cache \(context.paths.huggingFaceCache.path)" : ""
            print("no models in \(dir.path)\(hub) (run Scripts/setup.sh, or lem pull ORG/NAME)")
            return
        }
        for (name, url) in candidates {
            do {
                let files = try ModelFiles.open(url)
                let c = files.config
                let mb = Double(files.storedBytes) / 1_048_576
                let supported = ModelFactory.supportedTypes.contains(c.modelType) ? "" : "  (unsupported architecture)"
                print(
                    String(
                        format: "%@  %@  %@, %d layers, hidden %d, vocab %d, %.0f MB%@", name,
                        files.format.rawValue, c.modelType, c.numHiddenLayers, c.hiddenSize, c.vocabSize, mb, supported)
                )
            } catch {
                print("\(name)  unreadable: \(error)")
            }
        }
    }
}
