import Foundation
import LEMCore

/// `lem train --backend mlx_lm`: the run exported for mlx_lm into a temporary folder and trained
/// by `mlx_lm lora -c config.yaml` as a child process, its progress lines turned into the
/// `train-log.jsonl` events `lem train` writes (so `lem workbench --train-log` follows it live).
///
/// Lines that are not progress go to `onOutput` (the caller shows them on stderr), as does the
/// child's stderr; a failed child is an error naming the command and its last stderr lines. The
/// adapter lands in the configured `adapter_path`, where mlx_lm writes it.
public struct MLXLMRun: Sendable {
    /// The environment variable naming the `mlx_lm` executable when `--mlx-lm` is not given.
    public static let environmentVariable = "LEM_MLX_LM"
    /// How many of the child's last stderr lines an error shows.
    static let errorLines = 12

    public let executable: URL
    public let export: TrainingExport
    /// Where mlx_lm writes the adapter, and `train-log.jsonl`.
    public let adapterFolder: URL

    /// Checks `config` (as an export does) for a run by `executable`; a GGUF model is refused.
    public init(config: TrainingConfig, executable: URL) throws {
        var config = config
        let folder = URL(fileURLWithPath: TrainingExport.absolute(config.adapterPath))
        try config.set("adapter_path", to: .scalar(folder.path, place: "--adapter-path"))
        let export = try TrainingExport.prepare(config: config, format: .mlxLM)
        if let problem = export.problems.first { throw TrainingExportError.unusableModel(problem) }
        self.executable = executable
        self.export = export
        self.adapterFolder = folder
    }

    /// The `mlx_lm` executable: `explicit` (`--mlx-lm`), else `$LEM_MLX_LM`, else the first
    /// `mlx_lm` on `$PATH`.
    public static func findExecutable(explicit: String?, environment: [String: String]) throws -> URL {
        let manager = FileManager.default
        for (given, origin) in [(explicit, "--mlx-lm"), (environment[environmentVariable], environmentVariable)] {
            guard let given, !given.isEmpty else { continue }
            let path = TrainingExport.absolute(given)
            guard manager.isExecutableFile(atPath: path) else {
                throw TrainingExportError.noExecutable("\(origin) \(given): not an executable file")
            }
            return URL(fileURLWithPath: path)
        }
        for folder in (environment["PATH"] ?? "").split(separator: ":") where !folder.isEmpty {
            let candidate = URL(fileURLWithPath: String(folder)).appendingPathComponent("mlx_lm")
            if manager.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw TrainingExportError.noExecutable(
            "no mlx_lm executable on PATH: install mlx-lm (pip install mlx-lm), or give --mlx-lm PATH or set "
                + environmentVariable)
    }

    /// Runs mlx_lm to the end. Events go to `onEvent` and `<adapter_path>/train-log.jsonl`; the
    /// run returns false when `isCancelled` stopped it (polled every 0.2 s; the child is ended
    /// with SIGTERM, its last checkpoint kept).
    public func run(
        environment: [String: String], isCancelled: @escaping @Sendable () -> Bool = { false },
        onEvent: (TrainingEvent) -> Void = { _ in }, onOutput: @escaping @Sendable (String) -> Void = { _ in }
    ) throws -> Bool {
        let temp = FileManager.default.temporaryDirectory.appendingPathComponent("lem-mlx-lm-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: temp) }
        let folder = temp.appendingPathComponent("run")
        try export.write(to: folder, preferLocalModel: true)
        let configFile = folder.appendingPathComponent("config.yaml")
        let log = try TrainLog(url: adapterFolder.appendingPathComponent("train-log.jsonl"))
        func emit(_ event: TrainingEvent) throws {
            try log.append(event)
            onEvent(event)
        }
        try emit(.started(step: 0, totalSteps: export.config.iters))

        let process = Process()
        process.executableURL = executable
        process.arguments = ["lora", "-c", configFile.path]
        process.currentDirectoryURL = folder
        var childEnvironment = environment
        childEnvironment["PYTHONUNBUFFERED"] = "1"  // lines as they are printed, not at exit
        process.environment = childEnvironment
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        try process.run()

        let tail = StderrTail(limit: Self.errorLines)
        let stderrDone = DispatchSemaphore(value: 0)
        let errors = stderr.fileHandleForReading.fileDescriptor
        DispatchQueue.global().async {
            var pending = ""
            while true {
                let chunk = Self.readChunk(errors)
                if chunk.isEmpty { break }
                for line in Self.lines(String(decoding: chunk, as: UTF8.self), pending: &pending) {
                    tail.append(line)
                    onOutput(line)
                }
            }
            if !pending.isEmpty {
                tail.append(pending)
                onOutput(pending)
            }
            stderrDone.signal()
        }

        // A stop request ends the child with SIGTERM: lem ignores SIGINT while it trains (the
        // child may inherit that), and mlx_lm keeps its checkpoints either way.
        let pid = process.processIdentifier
        let exited = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            while exited.wait(timeout: .now() + 0.2) == .timedOut {
                if isCancelled() {
                    kill(pid, SIGTERM)
                    return
                }
            }
        }

        var progress = MLXLMProgress(adapterFolder: adapterFolder.path)
        var pending = ""
        func handle(_ line: String) throws {
            if let events = progress.events(for: line) {
                for event in events { try emit(event) }
            } else if !line.trimmingCharacters(in: .whitespaces).isEmpty {
                onOutput(MLXLMProgress.strippingEscapes(line))
            }
        }
        let output = stdout.fileHandleForReading.fileDescriptor
        do {
            while true {
                let chunk = Self.readChunk(output)
                if chunk.isEmpty { break }
                for line in Self.lines(String(decoding: chunk, as: UTF8.self), pending: &pending) { try handle(line) }
            }
            if !pending.isEmpty { try handle(pending) }
        } catch {
            kill(pid, SIGTERM)  // the log cannot be written: no child left behind
            process.waitUntilExit()
            exited.signal()
            stderrDone.wait()  // its reader holds the pipe's descriptor
            throw error
        }
        process.waitUntilExit()
        exited.signal()
        stderrDone.wait()

        let status = process.terminationStatus
        if isCancelled() {
            try emit(.failed(step: progress.lastStep, message: TrainingEvent.cancelledMessage))
            return false
        }
        guard status == 0, process.terminationReason == .exit else {
            let command = "\(executable.path) lora -c \(configFile.lastPathComponent)"
            try emit(.failed(step: progress.lastStep, message: "\(command) exited with status \(status)"))
            throw TrainingExportError.failed(command: command, status: status, lastLines: tail.lines)
        }
        if !progress.finished {
            try emit(
                .finished(
                    step: max(progress.lastStep, export.config.iters),
                    path: adapterFolder.appendingPathComponent(LoRAAdapter.weightsFile).path))
        }
        return true
    }

    /// The next bytes of the pipe `fd` (empty at its end), a read a signal interrupted retried:
    /// `FileHandle.availableData` traps on EINTR, which the child's exit (SIGCHLD) can cause.
    static func readChunk(_ fd: Int32) -> Data {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count >= 0 { return Data(buffer[0..<count]) }
            if errno != EINTR { return Data() }
        }
    }

    /// The complete lines of `chunk` after `pending`; a trailing partial line stays in `pending`.
    /// A carriage return ends a line too (progress bars redraw with it).
    static func lines(_ chunk: String, pending: inout String) -> [String] {
        var parts = (pending + chunk).split(
            omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        ).map(String.init)
        pending = parts.removeLast()
        return parts.filter { !$0.isEmpty }
    }
}

/// The last lines a child wrote to stderr, kept for an error message.
private final class StderrTail: @unchecked Sendable {
    private let lock = NSLock()
    private let limit: Int
    private var kept: [String] = []

    init(limit: Int) { self.limit = limit }

    func append(_ line: String) {
        lock.withLock {
            kept.append(line)
            if kept.count > limit { kept.removeFirst(kept.count - limit) }
        }
    }

    var lines: [String] { lock.withLock { kept } }
}
