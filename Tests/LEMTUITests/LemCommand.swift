import Foundation
import TestSupport

/// Runs the built `lem` (the one beside the test runner, else `.build/<config>/lem`) from the
/// repository root, for the command tests.
enum LemCommand {
    /// The binary, nil when it is not built.
    static let binary = WorkbenchEndToEndTests.lem

    /// Runs `lem arguments` to the end, with `environment` added to this process's; returns
    /// (exit status, stdout, stderr).
    static func run(_ arguments: [String], environment: [String: String] = [:], input: String? = nil) throws -> (
        status: Int32, out: String, err: String
    ) {
        let process = Process()
        guard let lem = binary else { throw CocoaError(.fileNoSuchFile) }
        process.executableURL = lem
        process.arguments = arguments
        if let input {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("lem-stdin-\(UUID().uuidString)")
            try Data(input.utf8).write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            process.standardInput = try FileHandle(forReadingFrom: file)
        }
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.currentDirectoryURL = TestPaths.repoRoot
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: outData, as: UTF8.self),
            String(decoding: errData, as: UTF8.self)
        )
    }

    /// Starts `lem arguments` from the repository root without waiting: `pipe` takes its stdout
    /// (its stderr with `readingErrors`), the other stream is discarded.
    static func start(_ arguments: [String], reading pipe: Pipe, readingErrors: Bool = false) throws -> Process {
        let process = Process()
        guard let lem = binary else { throw CocoaError(.fileNoSuchFile) }
        process.executableURL = lem
        process.arguments = arguments
        process.currentDirectoryURL = TestPaths.repoRoot
        if readingErrors {
            process.standardOutput = FileHandle.nullDevice
            process.standardError = pipe
        } else {
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        return process
    }

    /// Reads `pipe` until the text contains `marker`, the stream ends or `timeout` seconds pass;
    /// returns the text read.
    static func read(_ pipe: Pipe, until marker: String, timeout: Double) -> String {
        var text = ""
        let deadline = Date().addingTimeInterval(timeout)
        while !text.contains(marker), Date() < deadline {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        return text
    }
}
