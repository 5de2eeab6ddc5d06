import CNCurses
import Foundation

/// Restores the terminal on every way out: normal exit (atexit) and fatal signals (SIGINT,
/// SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL), after which the signal's
/// default action runs so the exit status and core dumps stay truthful.
enum TerminalGuard {
    nonisolated(unsafe) static var installed = false
    static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL]

    static func install() {
        guard !installed else { return }
        installed = true
        atexit { restoreTerminal() }
        for s in signals {
            signal(s) { sig in
                // endwin is not formally async-signal-safe, but on a fatal path restoring the
                // terminal matters more; then re-raise with the default action.
                restoreTerminal()
                signal(sig, SIG_DFL)
                raise(sig)
            }
        }
    }
}
