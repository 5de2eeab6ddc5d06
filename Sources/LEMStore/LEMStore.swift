import Foundation

/// Namespace for the results store: SQLite through GRDB, imports, exports and reports.
public enum LEMStore {
    /// The default database location below the user's home directory.
    public static let defaultRelativePath = ".local/share/lem/lem.sqlite"

    /// The default database file: `~/.local/share/lem/lem.sqlite`.
    public static var defaultDatabaseURL: URL {
        FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(defaultRelativePath)
    }
}
