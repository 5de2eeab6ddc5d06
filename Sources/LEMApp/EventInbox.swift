import Foundation
import Panels

/// A change to the workbench state, produced off the UI thread and applied on it.
public typealias WorkbenchUpdate = @Sendable (inout Workbench) -> Void

/// Where services send their changes to the workbench: applied in order on the UI thread.
public protocol WorkbenchInbox: AnyObject, Sendable {
    /// Queues `update` from any thread.
    func post(_ update: @escaping WorkbenchUpdate)
}

/// The thread-safe mailbox between background work and the UI loop: `post` queues an update
/// and writes a byte to a pipe, whose read end the loop waits on with poll(2) beside stdin, so
/// the UI sleeps until there is input or news (idle CPU ≈ 0).
public final class EventInbox: WorkbenchInbox, @unchecked Sendable {
    private let lock = NSLock()
    private var updates: [WorkbenchUpdate] = []
    private var signalled = false
    /// The pipe's read end, polled by the loop.
    public let wakeFD: Int32
    private let writeFD: Int32

    /// Creates the inbox and its wake-up pipe.
    public init() throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw AppError("cannot create the wake-up pipe: errno \(errno)") }
        wakeFD = fds[0]
        writeFD = fds[1]
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
    }

    deinit {
        close(wakeFD)
        close(writeFD)
    }

    public func post(_ update: @escaping WorkbenchUpdate) {
        lock.lock()
        updates.append(update)
        let wake = !signalled
        signalled = true
        lock.unlock()
        if wake {
            var b: UInt8 = 1
            _ = write(writeFD, &b, 1)
        }
    }

    /// Takes every queued update (on the UI thread) and clears the wake-up pipe.
    public func drain() -> [WorkbenchUpdate] {
        var buf = [UInt8](repeating: 0, count: 64)
        while read(wakeFD, &buf, buf.count) > 0 {}
        lock.lock()
        defer { lock.unlock() }
        let out = updates
        updates.removeAll()
        signalled = false
        return out
    }
}

/// A plain error carrying its message, for failures of the application layer.
public struct AppError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    /// An error saying `description`.
    public init(_ description: String) { self.description = description }
}
