import Foundation
import GRDB

/// A database failure said plainly: which file, what kind of trouble, what to do.
///
/// SQLite's own text ("database or disk is full", "file is not a database") names neither the
/// file nor a remedy, and GRDB's adds the SQL statement; every store operation turns a
/// `DatabaseError` into this instead, so a full disk, a read-only or locked file or a damaged
/// one reads as such wherever it happens.
public struct StoreError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The kinds of failure the messages distinguish.
    public enum Kind: Sendable, Equatable {
        /// SQLITE_FULL: no space left on the disk (or the database hit its page limit).
        case diskFull
        /// SQLITE_READONLY / SQLITE_PERM: the file, its folder or the filesystem is read-only.
        case readOnly
        /// SQLITE_BUSY / SQLITE_LOCKED: another connection held the lock past the wait.
        case locked
        /// SQLITE_CORRUPT / SQLITE_NOTADB: not an SQLite database, or a damaged one.
        case damaged
        /// SQLITE_CANTOPEN: the file or its folder cannot be opened or created.
        case cannotOpen
        /// SQLITE_IOERR: the operating system failed a read or write.
        case io
        /// Anything else (SQLite's result code).
        case other(Int32)
    }

    /// The database file.
    public var path: String
    /// What went wrong.
    public var kind: Kind
    /// SQLite's own message, for the curious.
    public var detail: String

    /// The store error for `error` at `path`: a `DatabaseError` is classified, anything else
    /// (a located input error, a cancellation) is returned unchanged.
    public static func wrapping(_ error: any Error, path: String) -> any Error {
        guard let db = error as? DatabaseError else { return error }
        let kind: Kind
        switch db.resultCode {
        case .SQLITE_FULL: kind = .diskFull
        case .SQLITE_READONLY, .SQLITE_PERM: kind = .readOnly
        case .SQLITE_BUSY, .SQLITE_LOCKED: kind = .locked
        case .SQLITE_CORRUPT, .SQLITE_NOTADB: kind = .damaged
        case .SQLITE_CANTOPEN: kind = .cannotOpen
        case .SQLITE_IOERR: kind = .io
        default: kind = .other(db.resultCode.rawValue)
        }
        // GRDB's message alone (not its description, which quotes the statement and could carry
        // a stored reply); SQLite's messages are short, but clip anyway.
        let detail = String((db.message ?? "SQLite error \(db.extendedResultCode.rawValue)").prefix(300))
        return StoreError(path: path, kind: kind, detail: detail)
    }

    public var description: String {
        let what: String
        switch kind {
        case .diskFull:
            what =
                "disk full: the database could not grow. Free some space and run again; everything "
                + "committed before this is kept"
        case .readOnly:
            what =
                "the database cannot be written (read-only file, folder or filesystem); check the "
                + "permissions of the file, its folder and its -wal/-shm files"
        case .locked:
            what =
                "the database is locked by another process and stayed locked past the wait; try again "
                + "when it has finished"
        case .damaged:
            what =
                "not a LEM results database, or a damaged one. Move it aside (a new one is created) or "
                + "restore it from a copy"
        case .cannotOpen:
            what = "cannot open or create the database file (missing folder, no permission, or a read-only filesystem)"
        case .io:
            what = "the operating system failed to read or write the database (disk error?)"
        case .other(let code):
            what = "SQLite error \(code)"
        }
        return "\(path): \(what) (SQLite: \(detail))"
    }
}
