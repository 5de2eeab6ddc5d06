import Foundation
import Panels

/// A change to the workbench state, produced off the UI thread and applied on it.
typealias WorkbenchUpdate = @Sendable (inout Workbench) -> Void

/// The thread-safe mailbox between background work and the UI loop: `post` queues an update
/// and writes a byte to a pipe, whose read end the loop waits on with poll(2) beside stdin, so
/// the UI sleeps until there is input or news (idle CPU ≈ 0).
final class EventInbox: @unchecked Sendable {
    private let lock = NSLock()
    private var updates: [WorkbenchUpdate] = []
    private var signalled = false
    /// The pipe's read end, polled by the loop.
    let wakeFD: Int32
    private let writeFD: Int32

    init() throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw WorkbenchError("cannot create the wake-up pipe: errno \(errno)") }
        wakeFD = fds[0]
        writeFD = fds[1]
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
    }

    deinit {
        close(wakeFD)
        close(writeFD)
    }

    /// Queues an update from any thread and wakes the loop.
    func post(_ update: @escaping WorkbenchUpdate) {
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
    func drain() -> [WorkbenchUpdate] {
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
