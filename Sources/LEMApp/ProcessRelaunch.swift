import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Replaces the running process with a fresh run of the same executable and arguments under
/// another environment — for settings a library reads only while loading (OpenBLAS's core).
public enum ProcessRelaunch {
    /// `execve`s `/proc/self/exe` with the process's own arguments and `environment`; returns only
    /// when that failed (or off Linux), and the caller carries on as it was.
    public static func exec(environment: [String: String]) {
        #if os(Linux)
            var entries: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") }
            entries.append(nil)
            _ = execve("/proc/self/exe", CommandLine.unsafeArgv, &entries)
            for entry in entries { free(entry) }
        #endif
    }
}
