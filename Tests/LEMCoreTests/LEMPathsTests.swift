import Foundation
import LEMCore
import Testing

@Suite("LEMPaths")
struct LEMPathsTests {
    let cwd = URL(fileURLWithPath: "/work/project")

    @Test("LEM_HOME, HOME and XDG_CONFIG_HOME decide the folders")
    func folders() {
        let plain = LEMPaths(environment: ["HOME": "/home/u"], currentDirectory: cwd, sourceCheckout: nil)
        #expect(plain.home.path == "/home/u/.cache/lem")
        #expect(plain.models.path == "/home/u/.cache/lem/models")
        #expect(plain.configDirectory.path == "/home/u/.config/lem")
        #expect(plain.database.path == "/home/u/.local/share/lem/lem.sqlite")
        #expect(plain.adapterRoots.map(\.path) == ["/home/u/.cache/lem/adapters", "/work/project/adapters"])
        let custom = LEMPaths(
            environment: ["HOME": "/home/u", "LEM_HOME": "/data/lem", "XDG_CONFIG_HOME": "/cfg"],
            currentDirectory: cwd, sourceCheckout: nil)
        #expect(custom.models.path == "/data/lem/models")
        #expect(custom.configDirectory.path == "/cfg/lem")
        #expect(custom.defaultModel.lastPathComponent == LEMPaths.defaultModelFile)
        // An empty variable counts as unset.
        #expect(
            LEMPaths(environment: ["HOME": "/h", "LEM_HOME": ""], currentDirectory: cwd, sourceCheckout: nil).home.path
                == "/h/.cache/lem")
    }

    @Test("the Hugging Face cache: HF_HUB_CACHE, else HF_HOME/hub, else XDG_CACHE_HOME, else ~/.cache")
    func huggingFaceCache() {
        func cache(_ env: [String: String]) -> String {
            LEMPaths(environment: ["HOME": "/home/u"].merging(env) { $1 }, currentDirectory: cwd, sourceCheckout: nil)
                .huggingFaceCache.path
        }
        #expect(cache([:]) == "/home/u/.cache/huggingface/hub")
        #expect(cache(["XDG_CACHE_HOME": "/xdg"]) == "/xdg/huggingface/hub")
        #expect(cache(["HF_HOME": "/hf", "XDG_CACHE_HOME": "/xdg"]) == "/hf/hub")
        #expect(cache(["HF_HUB_CACHE": "/hub", "HF_HOME": "/hf"]) == "/hub")
        #expect(cache(["HF_HUB_CACHE": "", "HF_HOME": "/hf"]) == "/hf/hub")
    }

    @Test("paths resolve against the working folder, ~ against the home folder")
    func resolve() {
        let paths = LEMPaths(environment: ["HOME": "/home/u"], currentDirectory: cwd, sourceCheckout: nil)
        #expect(paths.resolve("data/train").path == "/work/project/data/train")
        #expect(paths.resolve("/abs/x").path == "/abs/x")
        #expect(paths.resolve("../up").path == "/work/up")
        #expect(paths.short(URL(fileURLWithPath: "/home/u/x/y.sqlite")) == "~/x/y.sqlite")
        #expect(paths.short(URL(fileURLWithPath: "/other/y")) == "/other/y")
    }

    @Test("content folders: $LEM_HOME first, then the working folder, then the checkout")
    func content() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("lempaths-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let home = root.appendingPathComponent("home")
        let work = root.appendingPathComponent("work")
        let checkout = root.appendingPathComponent("checkout")
        for dir in [
            work.appendingPathComponent("seeds"), checkout.appendingPathComponent("seeds"),
            checkout.appendingPathComponent("kernel"), home
        ] {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        }
        try Data("swift".utf8).write(to: checkout.appendingPathComponent("Package.swift"))
        try Data("kernel".utf8).write(to: checkout.appendingPathComponent("kernel/kernel.md"))
        let paths = LEMPaths(
            environment: ["HOME": root.path, "LEM_HOME": home.path], currentDirectory: work,
            sourceCheckout: checkout)
        #expect(paths.seedsDirectory?.path == work.appendingPathComponent("seeds").path)
        #expect(paths.kernelDirectory?.path == checkout.appendingPathComponent("kernel").path)
        try FileManager.default.createDirectory(
            at: home.appendingPathComponent("seeds"), withIntermediateDirectories: true)
        #expect(paths.seedsDirectory?.path == home.appendingPathComponent("seeds").path)
        #expect(LEMPaths(environment: [:], currentDirectory: work, sourceCheckout: root).sourceCheckout == nil)
    }
}
