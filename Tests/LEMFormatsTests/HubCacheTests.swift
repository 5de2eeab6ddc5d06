import Foundation
import LEMFormats
import Testing

/// A Hugging Face cache built the way huggingface_hub writes one: blobs named by hash,
/// snapshot folders of relative symlinks, refs/main holding the commit.
struct FakeHubCache {
    let dir = TemporaryDirectory()
    var root: URL { dir.url.appendingPathComponent("hub") }

    /// Adds `files` as snapshot `commit` of `repo`, pointing `refs/<ref>` at it when given.
    func add(repo: String, commit: String, ref: String? = "main", files: [String: Data]) throws {
        let fm = FileManager.default
        let folder = root.appendingPathComponent(HubCache.folderName(repo: repo))
        let blobs = folder.appendingPathComponent("blobs")
        let snapshot = folder.appendingPathComponent("snapshots/\(commit)")
        try fm.createDirectory(at: blobs, withIntermediateDirectories: true)
        try fm.createDirectory(at: snapshot, withIntermediateDirectories: true)
        for (name, data) in files {
            let blob = "\(commit.prefix(8))-\(name.utf8.count)-\(data.count)"
            try data.write(to: blobs.appendingPathComponent(blob))
            try fm.createSymbolicLink(
                atPath: snapshot.appendingPathComponent(name).path,
                withDestinationPath: "../../blobs/\(blob)")
        }
        if let ref {
            try fm.createDirectory(at: folder.appendingPathComponent("refs"), withIntermediateDirectories: true)
            try Data(commit.utf8).write(to: folder.appendingPathComponent("refs/\(ref)"))
        }
    }

    /// A tiny Llama safetensors folder's files.
    static func tinyLlamaFiles(embedding: Float = 0) throws -> [String: Data] {
        var w = SafetensorsWriter()
        try w.add("model.embed_tokens.weight", shape: [3, 4], floats: [Float](repeating: embedding, count: 12))
        try w.add("model.norm.weight", shape: [4], floats: [1, 1, 1, 1])
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("lem-hub-\(UUID().uuidString).st")
        defer { try? FileManager.default.removeItem(at: tmp) }
        try w.write(to: tmp)
        return ["config.json": Data(ModelFilesTests.tinyLlama.utf8), "model.safetensors": try Data(contentsOf: tmp)]
    }
}

@Suite struct HubCacheTests {
    @Test func folderNamesMapToRepositoryIds() {
        #expect(HubCache.folderName(repo: "google/gemma-3-1b-it") == "models--google--gemma-3-1b-it")
        #expect(HubCache.repo(folderName: "models--google--gemma-3-1b-it") == "google/gemma-3-1b-it")
        #expect(HubCache.repo(folderName: "models--gpt2") == "gpt2")
        #expect(HubCache.repo(folderName: "datasets--org--x") == nil && HubCache.repo(folderName: "models--") == nil)
        #expect(HubCache.isRepoID("mlx-community/Qwen2.5-7B-Instruct-4bit") && HubCache.isRepoID("gpt2"))
        #expect(
            !HubCache.isRepoID("../x") && !HubCache.isRepoID("a/b/c") && !HubCache.isRepoID("/abs/path")
                && !HubCache.isRepoID("~/m") && !HubCache.isRepoID("org/.."))
    }

    @Test func snapshotsFollowRefsThenCommitsThenNewest() throws {
        let cache = FakeHubCache()
        let old = String(repeating: "a", count: 40)
        let new = String(repeating: "b", count: 40)
        try cache.add(repo: "org/tiny", commit: old, files: try FakeHubCache.tinyLlamaFiles())
        try cache.add(repo: "org/tiny", commit: new, ref: "v2", files: try FakeHubCache.tinyLlamaFiles(embedding: 1))
        let hub = HubCache(root: cache.root)
        #expect(hub.snapshot(repo: "org/tiny")?.commit == old)  // refs/main wins over the newer folder
        #expect(hub.snapshot(repo: "org/tiny", revision: "v2")?.commit == new)
        #expect(hub.snapshot(repo: "org/tiny", revision: old)?.commit == old)
        #expect(hub.snapshot(repo: "org/tiny", revision: "v3") == nil && hub.snapshot(repo: "org/none") == nil)
        #expect(hub.snapshot(repo: "org/tiny", revision: "../../x") == nil)
        // Without refs/main: the most recently modified snapshot.
        try FileManager.default.removeItem(at: hub.repoFolder("org/tiny").appendingPathComponent("refs/main"))
        let older = Date(timeIntervalSinceNow: -3600)
        try FileManager.default.setAttributes(
            [.modificationDate: older],
            ofItemAtPath: hub.repoFolder("org/tiny").appendingPathComponent("snapshots/\(old)").path)
        #expect(hub.snapshot(repo: "org/tiny")?.commit == new)
    }

    @Test func resolvesAndListsModelsThroughSymlinks() throws {
        let cache = FakeHubCache()
        let commit = String(repeating: "c", count: 40)
        try cache.add(repo: "org/tiny", commit: commit, files: try FakeHubCache.tinyLlamaFiles())
        var b = GGUFBuilder.tinyLlama()
        b.f32Tensor("token_embd.weight", ne: [8, 3], (0..<24).map(Float.init))
        b.f32Tensor("output_norm.weight", ne: [8], [Float](repeating: 1, count: 8))
        let gguf = Data(b.bytes())
        try cache.add(
            repo: "org/tiny-GGUF", commit: commit, files: ["a-Q8_0.gguf": gguf, "b-F32.gguf": gguf, "README.md": Data()]
        )
        try cache.add(repo: "org/empty", commit: commit, files: ["README.md": Data("x".utf8)])
        let hub = HubCache(root: cache.root)

        let folder = try hub.resolve("org/tiny")
        #expect(folder?.lastPathComponent == commit)
        #expect(try ModelFiles.open(folder!).config.modelType == "llama")
        #expect(try hub.resolve("org/tiny-GGUF/b-F32.gguf")?.lastPathComponent == "b-F32.gguf")
        #expect(try hub.resolve("org/unknown") == nil)
        let ambiguous = errorMessage { _ = try hub.resolve("org/tiny-GGUF") }
        #expect(
            ambiguous?.contains("org/tiny-GGUF/a-Q8_0.gguf, org/tiny-GGUF/b-F32.gguf") == true, "\(ambiguous ?? "")")
        #expect(errorMessage { _ = try hub.resolve("org/empty") }?.contains("neither config.json nor a .gguf") == true)
        #expect(errorMessage { _ = try hub.resolve("org/tiny-GGUF/c.gguf") }?.contains("no file 'c.gguf'") == true)

        let entries = ModelInventory.list(hubCache: hub)
        #expect(entries.map(\.name) == ["org/tiny", "org/tiny-GGUF/a-Q8_0.gguf", "org/tiny-GGUF/b-F32.gguf"])
        #expect(entries.allSatisfy { $0.inHubCache && $0.error == nil })
        let tiny = entries.first { $0.name == "org/tiny" }
        // Sizes count the blobs the snapshot links to.
        let expected = try FakeHubCache.tinyLlamaFiles().values.reduce(0) { $0 + $1.count }
        #expect(tiny?.fileSize == expected && tiny?.architecture == "llama")
        #expect(entries.last?.fileSize == gguf.count)
        // A missing cache lists nothing.
        #expect(ModelInventory.list(hubCache: HubCache(root: cache.root.appendingPathComponent("none"))).isEmpty)
    }
}
