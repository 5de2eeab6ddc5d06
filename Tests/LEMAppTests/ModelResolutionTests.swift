import Foundation
import LEMApp
import LEMCore
import LEMEngine
import LEMFormats
import Testing

/// `--model ORG/NAME` and the pickers reach the Hugging Face cache the context's paths name.
@Suite struct ModelResolutionTests {
    /// Puts the world's tiny model into its home's Hugging Face cache as `org/tiny-chat`.
    func cacheTheModel(_ world: TinyWorld) throws -> URL {
        let fm = FileManager.default
        let folder = world.paths.huggingFaceCache.appendingPathComponent("models--org--tiny-chat")
        let commit = String(repeating: "d", count: 40)
        let snapshot = folder.appendingPathComponent("snapshots/\(commit)")
        try fm.createDirectory(at: folder.appendingPathComponent("blobs"), withIntermediateDirectories: true)
        try fm.createDirectory(at: snapshot, withIntermediateDirectories: true)
        try fm.createDirectory(at: folder.appendingPathComponent("refs"), withIntermediateDirectories: true)
        for name in try fm.contentsOfDirectory(atPath: world.model.path) {
            let blob = folder.appendingPathComponent("blobs/blob-\(name)")
            try fm.copyItem(at: world.model.appendingPathComponent(name), to: blob)
            try fm.createSymbolicLink(
                atPath: snapshot.appendingPathComponent(name).path,
                withDestinationPath: "../../blobs/blob-\(name)")
        }
        try Data(commit.utf8).write(to: folder.appendingPathComponent("refs/main"))
        return snapshot
    }

    @Test func resolvesRepositoryIdsInTheCache() throws {
        let world = try TinyWorld()
        let snapshot = try cacheTheModel(world)
        #expect(world.paths.huggingFaceCache.path.hasPrefix(world.root.path))
        #expect(
            try world.context.resolveModel("org/tiny-chat").standardizedFileURL.path
                == snapshot.standardizedFileURL.path)
        // An existing path wins; a missing repository names the cache and lem pull.
        #expect(try world.context.resolveModel(world.model.path).path == world.model.standardizedFileURL.path)
        let missing = try? world.context.resolveModel("org/other")
        #expect(missing == nil)
        do {
            _ = try world.context.resolveModel("org/other")
        } catch {
            #expect("\(error)".contains("Hugging Face cache") && "\(error)".contains("lem pull org/other"), "\(error)")
        }
        // A training config's model: ORG/NAME becomes the snapshot; other values stay.
        #expect(world.context.cachedModelPath("org/tiny-chat") == snapshot.path)
        #expect(world.context.cachedModelPath("org/other") == "org/other")
        #expect(world.context.cachedModelPath(world.model.path) == world.model.path)
        // A plain missing path is left for the loader to report.
        #expect(try world.context.resolveModel("no/such/dir").path.hasSuffix("no/such/dir"))
        // The loaded model works through the snapshot's symlinks.
        let loaded = try world.context.load(ModelKey(model: snapshot))
        #expect(loaded.model.config.modelType == "gemma3_text")
    }

    @Test func pickersListTheCache() throws {
        let world = try TinyWorld()
        let snapshot = try cacheTheModel(world)
        let choices = world.context.modelCatalog().models()
        #expect(choices.map(\.name) == ["tiny-chat", "org/tiny-chat"], "\(choices)")
        #expect(choices.last?.path == snapshot.path)
    }
}
