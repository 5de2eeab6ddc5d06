import Foundation

/// The Hugging Face Hub cache as `huggingface_hub` lays it out, where transformers and mlx_lm
/// download models.
///
/// ```
/// <root>/models--ORG--NAME/
///     blobs/<sha256 or git sha1>           file contents, named by their ETag
///     snapshots/<commit>/<path>            symlinks to ../../blobs/<etag>
///     refs/<revision>                      the commit a branch or tag points to (text)
/// ```
/// `root` is `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub` (LEMPaths
/// reads the environment). Only model repositories (`models--`) are looked at.
public struct HubCache: Sendable, Equatable {
    /// The cache folder (`…/huggingface/hub`).
    public var root: URL

    public init(root: URL) { self.root = root }

    /// One downloaded revision of a model repository.
    public struct Snapshot: Sendable, Equatable {
        /// `ORG/NAME`.
        public var repo: String
        /// The commit hash the snapshot folder is named after.
        public var commit: String
        /// `snapshots/<commit>`.
        public var url: URL
    }

    /// `models--ORG--NAME` for `ORG/NAME`.
    public static func folderName(repo: String) -> String {
        "models--" + repo.replacingOccurrences(of: "/", with: "--")
    }

    /// `ORG/NAME` for a `models--ORG--NAME` folder, nil for other folders.
    public static func repo(folderName name: String) -> String? {
        guard name.hasPrefix("models--") else { return nil }
        let rest = name.dropFirst("models--".count)
        guard !rest.isEmpty else { return nil }
        // huggingface_hub joins with "--"; organisation names hold no "--", model names may.
        guard let sep = rest.range(of: "--") else { return String(rest) }
        return String(rest[..<sep.lowerBound]) + "/" + String(rest[sep.upperBound...])
    }

    /// Whether `spec` has the shape of a repository id (`ORG/NAME`, or `NAME` alone).
    public static func isRepoID(_ spec: String) -> Bool {
        let parts = spec.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !spec.hasPrefix("."), !spec.hasPrefix("~") else { return false }
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_."))
        return parts.allSatisfy { p in
            !p.isEmpty && p != "." && p != ".." && p.unicodeScalars.allSatisfy { allowed.contains($0) }
        }
    }

    /// The repository folder of `repo`.
    public func repoFolder(_ repo: String) -> URL {
        root.appendingPathComponent(Self.folderName(repo: repo))
    }

    /// The snapshot of `repo` at `revision`: `refs/<revision>` names the commit; a commit hash
    /// names its folder directly. With `revision` nil, `refs/main`, else the most recently
    /// modified snapshot. Nil when the cache holds none.
    public func snapshot(repo: String, revision: String? = nil) -> Snapshot? {
        let folder = repoFolder(repo)
        let snapshots = folder.appendingPathComponent("snapshots")
        let fm = FileManager.default
        func existing(_ commit: String) -> Snapshot? {
            guard !commit.isEmpty, !commit.contains("/"), commit != ".", commit != ".." else { return nil }
            let url = snapshots.appendingPathComponent(commit)
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue else { return nil }
            return Snapshot(repo: repo, commit: commit, url: url)
        }
        func ref(_ name: String) -> String? {
            let file = folder.appendingPathComponent("refs").appendingPathComponent(name)
            guard let data = fm.contents(atPath: file.path), data.count <= 256 else { return nil }
            return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if let revision {
            return ref(revision).flatMap(existing) ?? existing(revision)
        }
        if let main = ref("main").flatMap(existing) { return main }
        let names = (try? fm.contentsOfDirectory(atPath: snapshots.path)) ?? []
        let dated = names.filter { !$0.hasPrefix(".") }.compactMap { name -> (Date, String)? in
            guard existing(name) != nil else { return nil }
            let attrs = try? fm.attributesOfItem(atPath: snapshots.appendingPathComponent(name).path)
            return ((attrs?[.modificationDate] as? Date) ?? .distantPast, name)
        }
        return dated.max { $0 < $1 }.flatMap { existing($0.1) }
    }

    /// The latest snapshot of every model repository in the cache, sorted by repository id.
    public func snapshots() -> [Snapshot] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.sorted().compactMap { Self.repo(folderName: $0) }.compactMap { snapshot(repo: $0) }
    }

    /// The model files of a snapshot: the folder itself when it holds `config.json`, else its
    /// top-level `.gguf` files (sorted).
    public static func models(in snapshot: Snapshot) -> [URL] {
        let fm = FileManager.default
        if fm.fileExists(atPath: snapshot.url.appendingPathComponent("config.json").path) { return [snapshot.url] }
        let names = (try? fm.contentsOfDirectory(atPath: snapshot.url.path)) ?? []
        return names.filter { $0.lowercased().hasSuffix(".gguf") }.sorted().map {
            snapshot.url.appendingPathComponent($0)
        }
    }

    /// The model `spec` names in the cache: `ORG/NAME` (its folder with `config.json`, or its
    /// only `.gguf` file) or `ORG/NAME/FILE.gguf`; `revision` as in `snapshot(repo:revision:)`.
    /// Nil when the cache has no such repository; throws when it has it but the spec is ambiguous
    /// or names no model.
    public func resolve(_ spec: String, revision: String? = nil) throws -> URL? {
        var repo = spec
        var file: String? = nil
        let parts = spec.split(separator: "/")
        if parts.count == 3, parts[2].lowercased().hasSuffix(".gguf") {
            repo = String(parts[0]) + "/" + String(parts[1])
            file = String(parts[2])
        }
        guard Self.isRepoID(repo), let snap = snapshot(repo: repo, revision: revision) else { return nil }
        if let file {
            let url = snap.url.appendingPathComponent(file)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw FormatError(snap.url, "has no file '\(file)'")
            }
            return url
        }
        let models = Self.models(in: snap)
        switch models.count {
        case 1: return models[0]
        case 0: throw FormatError(snap.url, "holds neither config.json nor a .gguf file")
        default:
            let names = models.map { "\(repo)/\($0.lastPathComponent)" }.joined(separator: ", ")
            throw FormatError(snap.url, "holds several GGUF files; name one: \(names)")
        }
    }

    // MARK: Writing (lem pull), as huggingface_hub lays files out

    /// `blobs/<etag>` of `repo`.
    public func blobURL(repo: String, etag: String) -> URL {
        repoFolder(repo).appendingPathComponent("blobs").appendingPathComponent(etag)
    }

    /// Points `snapshots/<commit>/<path>` at `blobs/<etag>` with a relative symlink (replacing
    /// an existing one), creating the folders on the way.
    public func link(repo: String, commit: String, path: String, etag: String) throws {
        let fm = FileManager.default
        let snapshot = repoFolder(repo).appendingPathComponent("snapshots").appendingPathComponent(commit)
        let link = snapshot.appendingPathComponent(path)
        try fm.createDirectory(at: link.deletingLastPathComponent(), withIntermediateDirectories: true)
        let depth = path.split(separator: "/").count - 1
        let target = String(repeating: "../", count: depth + 2) + "blobs/" + etag
        if (try? fm.destinationOfSymbolicLink(atPath: link.path)) != nil || fm.fileExists(atPath: link.path) {
            try fm.removeItem(at: link)
        }
        try fm.createSymbolicLink(atPath: link.path, withDestinationPath: target)
    }

    /// Writes `refs/<revision>` = `commit` (atomically).
    public func writeRef(repo: String, revision: String, commit: String) throws {
        let refs = repoFolder(repo).appendingPathComponent("refs")
        let file = refs.appendingPathComponent(revision)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(commit.utf8).write(to: file, options: .atomic)
    }
}
