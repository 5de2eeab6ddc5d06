import Foundation
import LEMFormats
import Panels

/// What the pickers offer: the installed models (`ModelInventory` over the models folder, then
/// the Hugging Face cache's snapshots) and adapter folders (any folder holding
/// `adapters.safetensors` or `adapter_model.safetensors`) under the adapter roots.
public struct ModelCatalog: Sendable {
    public let modelsDirectory: URL
    /// The Hugging Face cache listed after the models folder, nil to leave it out.
    public let hubCache: HubCache?
    public let adapterRoots: [URL]
    /// How deep below a root adapter folders are looked for.
    static let maxDepth = 3
    static let adapterFiles = ["adapters.safetensors", "adapter_model.safetensors"]

    /// A catalog of `modelsDirectory`, `hubCache` and the adapter folders below `adapterRoots`.
    public init(modelsDirectory: URL, hubCache: HubCache? = nil, adapterRoots: [URL]) {
        self.modelsDirectory = modelsDirectory
        self.hubCache = hubCache
        self.adapterRoots = adapterRoots
    }

    /// The installed models that open (models folder first, then the Hugging Face cache, named
    /// `ORG/NAME`), plus `including` when it is elsewhere.
    public func models(including extra: URL? = nil) -> [ChatChoice] {
        let entries =
            ((try? ModelInventory.list(modelsDirectory)) ?? [])
            + (hubCache.map { ModelInventory.list(hubCache: $0) } ?? [])
        var out = entries.filter { $0.error == nil }.map { ChatChoice(name: $0.name, path: $0.url.path) }
        if let extra, !out.contains(where: { $0.path == extra.path }) {
            out.insert(ChatChoice(name: extra.lastPathComponent, path: extra.path), at: 0)
        }
        return out
    }

    /// The adapter folders under the roots, by name (`parent/folder` when names repeat), sorted.
    public func adapters() -> [ChatChoice] {
        var found: [URL] = []
        for root in adapterRoots { Self.collect(root.standardizedFileURL, depth: 0, into: &found) }
        var seen = Set<String>()
        let unique = found.filter { seen.insert($0.path).inserted }
        return unique.map { ChatChoice(name: Self.adapterName($0), path: $0.path) }.sorted { $0.name < $1.name }
    }

    /// `parent/folder` of an adapter folder (or file), short enough for a picker.
    public static func adapterName(_ url: URL) -> String {
        url.deletingLastPathComponent().lastPathComponent + "/" + url.lastPathComponent
    }

    public static func isAdapterFolder(_ url: URL) -> Bool {
        adapterFiles.contains { FileManager.default.fileExists(atPath: url.appendingPathComponent($0).path) }
    }

    private static func collect(_ dir: URL, depth: Int, into found: inout [URL]) {
        if isAdapterFolder(dir) { found.append(dir) }
        guard depth < maxDepth, let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else {
            return
        }
        for name in names.sorted() where !name.hasPrefix(".") {
            let child = dir.appendingPathComponent(name)
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: child.path, isDirectory: &isDir), isDir.boolValue {
                collect(child, depth: depth + 1, into: &found)
            }
        }
    }
}
