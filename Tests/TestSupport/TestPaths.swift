import Foundation

/// Locations the tests read from: the repository's committed fixtures, the shared LEM data and
/// the installed default models.
public enum TestPaths {
    /// The repository root, derived from this file's location (Tests/TestSupport/TestPaths.swift).
    public static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Committed fixtures: `Tests/Fixtures/<name>`.
    public static func fixture(_ name: String) -> URL {
        repoRoot.appendingPathComponent("Tests/Fixtures").appendingPathComponent(name)
    }

    /// The read-only shared data from the public LEM repository (`../shared/lem`), if present.
    public static var sharedLEM: URL? {
        let url = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/lem")
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    /// The models directory: `$LEM_HOME/models`, else `~/.cache/lem/models`.
    public static var modelsDirectory: URL {
        if let home = ProcessInfo.processInfo.environment["LEM_HOME"], !home.isEmpty {
            return URL(fileURLWithPath: home).appendingPathComponent("models")
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/lem/models")
    }

    /// An installed model file by name, or nil when Scripts/setup.sh has not installed it.
    public static func installedModel(_ fileName: String) -> URL? {
        let url = modelsDirectory.appendingPathComponent(fileName)
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    /// The default chat model (SmolLM2-135M-Instruct, Q4_1 GGUF), if installed.
    public static var smolLM2: URL? { installedModel("SmolLM2-135M-Instruct.Q4_1.gguf") }
    /// The default base model (Gemma 3 270M, Q4_K_M GGUF), if installed.
    public static var gemma3: URL? { installedModel("gemma-3-270m-q4_k_m.gguf") }
}
