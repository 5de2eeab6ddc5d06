import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A benchmark run claimed by one runner: while it is held, no other runner — in another process
/// or through another `ResultStore` in this one — answers the run's items.
///
/// The claim is a kernel lock on byte `runID` of `<database>-runs.lock` beside the database, so
/// the kernel drops it when its holder ends, however it ends: a killed `lem bench run` never
/// leaves a run claimed. On Linux it is an open-file-description lock (held per `RunLock`, so two
/// in one process exclude each other as two processes do); elsewhere a POSIX record lock, which
/// excludes other processes only.
public final class RunLock: @unchecked Sendable {
    /// The run held.
    public let runID: Int64
    private let lock = NSLock()
    private var fd: Int32

    #if os(Linux)
        /// `F_OFD_SETLK` / `F_OFD_SETLKW` (Linux ≥ 3.15, the same numbers on every architecture);
        /// Glibc's module does not export them without `_GNU_SOURCE`.
        private static let setLock: Int32 = 37
        private static let setLockWait: Int32 = 38
    #else
        private static let setLock: Int32 = F_SETLK
        private static let setLockWait: Int32 = F_SETLKW
    #endif

    private init(runID: Int64, fd: Int32) {
        self.runID = runID
        self.fd = fd
    }

    /// The lock file of the database at `database`.
    static func file(for database: URL) -> URL {
        database.deletingLastPathComponent().appendingPathComponent(database.lastPathComponent + "-runs.lock")
    }

    /// Takes run `runID`'s lock without waiting; nil when another runner holds it.
    static func acquire(runID: Int64, database: URL) throws -> RunLock? {
        let path = file(for: database).path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw StoreError(path: path, kind: .cannotOpen, detail: String(cString: strerror(errno)))
        }
        var region = byte(Int64(runID), F_WRLCK)
        if fcntl(fd, setLock, &region) == 0 { return RunLock(runID: runID, fd: fd) }
        let code = errno
        close(fd)
        if code == EAGAIN || code == EACCES { return nil }
        throw StoreError(path: path, kind: .io, detail: "cannot lock run \(runID): \(String(cString: strerror(code)))")
    }

    /// A one-byte lock request of `type` (`F_WRLCK` or `F_UNLCK`) at `offset`.
    static func byte(_ offset: Int64, _ type: Int32) -> flock {
        var region = flock()
        region.l_type = Int16(type)
        region.l_whence = Int16(SEEK_SET)
        region.l_start = off_t(offset)
        region.l_len = 1
        region.l_pid = 0
        return region
    }

    /// Gives the run up; later calls do nothing.
    ///
    /// The lock is cleared before the descriptor is closed: a child process spawned by another
    /// thread between `fork` and `exec` shares the open file description, and closing our
    /// descriptor alone would leave the run claimed until that child execs.
    public func release() {
        lock.withLock {
            if fd >= 0 {
                var region = Self.byte(Int64(runID), F_UNLCK)
                _ = fcntl(fd, Self.setLock, &region)
                close(fd)
            }
            fd = -1
        }
    }

    deinit { release() }
}

extension RunLock {
    /// Runs `body` holding the database's schema lock — byte 0 of the same lock file (run ids
    /// start at 1) — waiting while another store, in this process or another, holds it. Two
    /// stores opening a new file at once would otherwise both switch it to WAL (the second
    /// failing at once with "database is locked") and both apply its migrations (the second
    /// failing on a column the first just added).
    static func withSchemaLock<T>(database: URL, _ body: () throws -> T) throws -> T {
        let path = file(for: database).path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw StoreError(path: path, kind: .cannotOpen, detail: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var region = byte(0, F_WRLCK)
        while fcntl(fd, setLockWait, &region) != 0 {
            guard errno == EINTR else {
                throw StoreError(
                    path: path, kind: .io, detail: "cannot lock the schema: \(String(cString: strerror(errno)))")
            }
        }
        defer {
            region.l_type = Int16(F_UNLCK)
            _ = fcntl(fd, setLock, &region)
        }
        return try body()
    }
}

extension ResultStore {
    /// Claims run `runID` for this runner; nil when another runner (another process, or another
    /// store on the same file) holds it. Released by `RunLock.release()` or when the process ends.
    public func claimRun(_ runID: Int64) throws -> RunLock? {
        try RunLock.acquire(runID: runID, database: url)
    }
}
