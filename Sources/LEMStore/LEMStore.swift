import GRDB

/// Namespace for the results store: SQLite through GRDB, imports, exports and reports.
public enum LEMStore {
    /// The default database location below the user's data directory.
    public static let defaultRelativePath = ".local/share/lem/lem.sqlite"
}
