import Foundation
import LEMApp
import LEMCore
import LEMFormats
import Testing

/// `lem pull` against a loopback server answering the Hub's endpoints (FakeHubServer).
@Suite(.serialized) struct HubPullTests {
    static let commit = "0123456789abcdef0123456789abcdef01234567"

    /// A tiny model repository: a small JSON file (git), a "large" LFS weights file, a nested file.
    static func files() -> [String: FakeHubServer.File] {
        var weights = Data()
        for i in 0..<300_000 { weights.append(UInt8(truncatingIfNeeded: i &* 2_654_435_761 >> 13)) }
        return [
            "config.json": .init(data: Data(#"{"model_type": "llama"}"#.utf8), lfs: false),
            "model.safetensors": .init(data: weights, lfs: true),
            "sub/notes.txt": .init(data: Data("hello".utf8), lfs: false)
        ]
    }

    func temporaryCache() -> HubCache {
        HubCache(root: FileManager.default.temporaryDirectory.appendingPathComponent("lem-hub-\(UUID().uuidString)"))
    }

    @Test func pullsIntoTheCacheLayout() throws {
        let server = try FakeHubServer(repo: "org/tiny", commit: Self.commit, files: Self.files(), token: "secret")
        defer { server.stop() }
        let cache = temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache.root) }
        var events: [HubDownloader.Event] = []
        let downloader = HubDownloader(cache: cache, endpoint: server.endpoint, token: "secret")
        let snap = try downloader.pull(repo: "org/tiny") { events.append($0) }
        #expect(snap.commit == Self.commit)
        #expect(
            events.first == .listed(commit: Self.commit, files: ["config.json", "model.safetensors", "sub/notes.txt"]))
        let fm = FileManager.default
        for (name, file) in Self.files() {
            let link = snap.url.appendingPathComponent(name)
            #expect(try Data(contentsOf: link) == file.data, "\(name)")
            let target = try fm.destinationOfSymbolicLink(atPath: link.path)
            #expect(target.hasPrefix(name.contains("/") ? "../../../blobs/" : "../../blobs/"), "\(target)")
        }
        // LFS blobs are named by their sha256, refs/main holds the commit.
        let sha = SHA256.hex(Self.files()["model.safetensors"]!.data)
        #expect(fm.fileExists(atPath: cache.blobURL(repo: "org/tiny", etag: sha).path))
        #expect(
            try String(contentsOf: cache.repoFolder("org/tiny").appendingPathComponent("refs/main"), encoding: .utf8)
                == Self.commit)
        #expect(cache.snapshot(repo: "org/tiny")?.url.standardizedFileURL == snap.url.standardizedFileURL)
        #expect(events.contains(.finished(file: "model.safetensors", bytes: 300_000)))

        // A second pull finds every blob and downloads nothing.
        var again: [HubDownloader.Event] = []
        try downloader.pull(repo: "org/tiny") { again.append($0) }
        #expect(again.filter { if case .cached = $0 { true } else { false } }.count == 3)
        #expect(
            !server.requests.contains {
                $0.hasPrefix("GET /cdn/") && server.requests.filter { $0.hasPrefix("GET /cdn/") }.count > 1
            })
    }

    @Test func includeGlobsAndErrors() throws {
        let server = try FakeHubServer(repo: "org/tiny", commit: Self.commit, files: Self.files(), token: "secret")
        defer { server.stop() }
        let cache = temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache.root) }
        let snap = try HubDownloader(cache: cache, endpoint: server.endpoint, token: "secret")
            .pull(repo: "org/tiny", include: ["*.json", "sub/"])
        let fm = FileManager.default
        #expect(fm.fileExists(atPath: snap.url.appendingPathComponent("config.json").path))
        #expect(fm.fileExists(atPath: snap.url.appendingPathComponent("sub/notes.txt").path))
        #expect(!fm.fileExists(atPath: snap.url.appendingPathComponent("model.safetensors").path))

        func message(_ body: () throws -> Void) -> String? {
            do {
                try body()
                return nil
            } catch { return "\(error)" }
        }
        let noToken = message { try HubDownloader(cache: cache, endpoint: server.endpoint).pull(repo: "org/tiny") }
        #expect(noToken?.contains("HF_TOKEN") == true, "\(noToken ?? "")")
        let missing = message {
            try HubDownloader(cache: cache, endpoint: server.endpoint, token: "secret").pull(repo: "org/none")
        }
        #expect(missing?.contains("not found") == true, "\(missing ?? "")")
        let nothing = message {
            try HubDownloader(cache: cache, endpoint: server.endpoint, token: "secret").pull(
                repo: "org/tiny", include: ["*.gguf"])
        }
        #expect(nothing?.contains("no file matches") == true, "\(nothing ?? "")")
        #expect(
            message { try HubDownloader(cache: cache).pull(repo: "../etc") }?.contains(
                "not a Hugging Face repository id") == true)
    }

    @Test func resumesAnInterruptedDownloadAndChecksTheHash() throws {
        let server = try FakeHubServer(
            repo: "org/tiny", commit: Self.commit, files: Self.files(), truncateFirst: 100_000)
        defer { server.stop() }
        let cache = temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache.root) }
        let downloader = HubDownloader(cache: cache, endpoint: server.endpoint)
        #expect(throws: (any Error).self) { try downloader.pull(repo: "org/tiny", include: ["model.safetensors"]) }
        let sha = SHA256.hex(Self.files()["model.safetensors"]!.data)
        let partial = cache.blobURL(repo: "org/tiny", etag: sha).appendingPathExtension("incomplete")
        let kept = (try FileManager.default.attributesOfItem(atPath: partial.path)[.size] as? Int) ?? -1
        #expect(kept > 0 && kept <= 100_000, "\(kept)")
        let snap = try downloader.pull(repo: "org/tiny", include: ["model.safetensors"])
        #expect(
            try Data(contentsOf: snap.url.appendingPathComponent("model.safetensors"))
                == Self.files()["model.safetensors"]!.data)
        #expect(server.requests.filter { $0.hasPrefix("GET /cdn/") }.count == 2)
        #expect(!FileManager.default.fileExists(atPath: partial.path))

        // A corrupted partial file fails the sha256 check and is removed.
        let other = temporaryCache()
        defer { try? FileManager.default.removeItem(at: other.root) }
        let bad = other.blobURL(repo: "org/tiny", etag: sha).appendingPathExtension("incomplete")
        try FileManager.default.createDirectory(at: bad.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(repeating: 7, count: 1000).write(to: bad)
        var failure = ""
        do {
            try HubDownloader(cache: other, endpoint: server.endpoint).pull(
                repo: "org/tiny", include: ["model.safetensors"])
        } catch { failure = "\(error)" }
        #expect(failure.contains("does not match"), "\(failure)")
        #expect(!FileManager.default.fileExists(atPath: bad.path))
    }

    @Test func sha256MatchesTheStandardVectors() {
        #expect(SHA256.hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let long = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(SHA256.hex(long) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // Fed in uneven pieces: the same digest.
        var h = SHA256()
        let million = [UInt8](repeating: 0x61, count: 1_000_000)
        var i = 0
        for step in [1, 63, 64, 65, 1000, 4095] {
            h.update(million[i..<i + step])
            i += step
        }
        h.update(million[i...])
        #expect(h.hexDigest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}
