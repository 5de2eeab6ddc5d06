import Foundation

/// Where LEM Workbench keeps and finds things: models, adapters, the results database, the
/// user's configuration, and the content folders (`kernel/`, `seeds/`).
///
/// Built once from the environment the executable read at start (`init(environment:…)`), then
/// passed down as a value: no module looks the environment up itself.
/// - `home`: `$LEM_HOME`, else `~/.cache/lem` — `models/`, `adapters/` and the downloaded
///   reference vocabularies live there.
/// - `configDirectory`: `$XDG_CONFIG_HOME/lem`, else `~/.config/lem` (themes, key bindings).
/// - `database`: `~/.local/share/lem/lem.sqlite`.
/// - `huggingFaceCache`: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else
///   `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub` (huggingface_hub's order).
/// - content folders: the first of `$LEM_HOME/<name>`, `./<name>` and the source checkout's
///   `<name>` that exists.
public struct LEMPaths: Sendable, Equatable {
    /// The user's home directory.
    public var userHome: URL
    /// `$LEM_HOME`, else `~/.cache/lem`.
    public var home: URL
    /// Whether `home` came from `$LEM_HOME`.
    public var homeFromEnvironment: Bool
    /// The folder relative paths are resolved against.
    public var currentDirectory: URL
    /// The user's configuration folder.
    public var configDirectory: URL
    /// The source checkout the executable was built from, when it is still there.
    public var sourceCheckout: URL?
    /// The Hugging Face Hub cache (`models--ORG--NAME/snapshots/…`), where transformers and
    /// mlx_lm download models and `lem pull` writes.
    public var huggingFaceCache: URL

    /// The checkout holding this file when it was compiled (content folders fall back to it).
    public static let buildCheckout: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Paths for an environment (`HOME`, `LEM_HOME`, `XDG_CONFIG_HOME`, `HF_HUB_CACHE`, `HF_HOME`,
    /// `XDG_CACHE_HOME`) and working folder.
    public init(
        environment: [String: String], currentDirectory: URL,
        sourceCheckout: URL? = LEMPaths.buildCheckout
    ) {
        let userHome =
            environment["HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser
        self.userHome = userHome
        if let lemHome = environment["LEM_HOME"], !lemHome.isEmpty {
            home = URL(fileURLWithPath: (lemHome as NSString).expandingTildeInPath)
            homeFromEnvironment = true
        } else {
            home = userHome.appendingPathComponent(".cache/lem")
            homeFromEnvironment = false
        }
        if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty {
            configDirectory = URL(fileURLWithPath: xdg).appendingPathComponent("lem")
        } else {
            configDirectory = userHome.appendingPathComponent(".config/lem")
        }
        func variable(_ name: String) -> URL? {
            environment[name].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) }
        }
        let hfHome =
            variable("HF_HOME")
            ?? (variable("XDG_CACHE_HOME") ?? userHome.appendingPathComponent(".cache")).appendingPathComponent(
                "huggingface")
        huggingFaceCache =
            variable("HF_HUB_CACHE") ?? variable("HUGGINGFACE_HUB_CACHE") ?? hfHome.appendingPathComponent("hub")
        self.currentDirectory = currentDirectory
        self.sourceCheckout = sourceCheckout.flatMap {
            FileManager.default.fileExists(atPath: $0.appendingPathComponent("Package.swift").path) ? $0 : nil
        }
    }

    /// Installed models: `home/models`.
    public var models: URL { home.appendingPathComponent("models") }

    /// The default folder of trained adapters: `home/adapters`.
    public var adapters: URL { home.appendingPathComponent("adapters") }

    /// Where `lem cache-prompt` puts a cache file given by bare name, and `lem cache ls` looks.
    public var promptCaches: URL { home.appendingPathComponent("prompt-caches") }

    /// Folders searched for adapter folders: `home/adapters` and `./adapters`.
    public var adapterRoots: [URL] { [adapters, currentDirectory.appendingPathComponent("adapters")] }

    /// The default results database: `~/.local/share/lem/lem.sqlite`.
    public var database: URL { userHome.appendingPathComponent(".local/share/lem/lem.sqlite") }

    /// The default chat model `Scripts/setup.sh` installs.
    public static let defaultModelFile = "SmolLM2-135M-Instruct.Q4_1.gguf"

    /// The default chat model's path (installed or not).
    public var defaultModel: URL { models.appendingPathComponent(Self.defaultModelFile) }

    /// The first existing folder called `name` among `home`, the current folder and the source
    /// checkout.
    public func contentDirectory(_ name: String) -> URL? {
        var candidates: [URL] = []
        if homeFromEnvironment { candidates.append(home.appendingPathComponent(name)) }
        candidates.append(currentDirectory.appendingPathComponent(name))
        if let sourceCheckout { candidates.append(sourceCheckout.appendingPathComponent(name)) }
        return candidates.first {
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: $0.path, isDirectory: &isDirectory) && isDirectory.boolValue
        }
    }

    /// The ethics kernel folder (`kernel.md` + `axioms.json`), if one is found.
    public var kernelDirectory: URL? {
        contentDirectory("kernel").flatMap {
            FileManager.default.fileExists(atPath: $0.appendingPathComponent("kernel.md").path) ? $0 : nil
        }
    }

    /// The seed prompts folder, if one is found.
    public var seedsDirectory: URL? { contentDirectory("seeds") }

    /// `path` with `~` expanded, resolved against the current folder when relative.
    public func resolve(_ path: String) -> URL {
        let expanded = (path as NSString).expandingTildeInPath
        let base = URL(fileURLWithPath: currentDirectory.path, isDirectory: true)
        return URL(fileURLWithPath: expanded, relativeTo: base).standardizedFileURL
    }

    /// `~/…` for a path below the user's home directory, else the path.
    public func short(_ url: URL) -> String {
        let home = userHome.path
        return url.path.hasPrefix(home + "/") ? "~" + url.path.dropFirst(home.count) : url.path
    }
}
