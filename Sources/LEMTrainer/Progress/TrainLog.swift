import Foundation
import LEMCore

/// The `train-log.jsonl` of a run: one `TrainingEvent` JSON object per line, appended as events
/// happen.
///
/// A log grows during the run, so it is appended to rather than replaced; each event is one
/// `write` of a whole line, so a reader never sees half an event from a finished write.
public final class TrainLog: @unchecked Sendable {
    public let url: URL
    private let handle: FileHandle
    private let lock = NSLock()

    /// Opens the log at `url`: created or truncated, or with `append` continued after what it
    /// holds (a resumed run).
    public init(url: URL, append: Bool = false) throws {
        self.url = url
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let exists = FileManager.default.fileExists(atPath: url.path)
        guard (append && exists) || FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw DatasetError.badLine(file: url.path, line: 0, reason: "cannot create the training log")
        }
        handle = try FileHandle(forWritingTo: url)
        if append { try handle.seekToEnd() }
    }

    deinit { try? handle.close() }

    /// Appends one event as a line.
    public func append(_ event: TrainingEvent) throws {
        lock.lock()
        defer { lock.unlock() }
        try handle.write(contentsOf: Data((event.jsonLine + "\n").utf8))
    }

    /// Reads every event of a log file; a bad line is an error naming the file and line.
    public static func read(_ url: URL) throws -> [TrainingEvent] {
        let text = try String(contentsOf: url, encoding: .utf8)
        var events: [TrainingEvent] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.allSatisfy(\.isWhitespace) {
            do {
                events.append(try TrainingEvent(jsonLine: String(line), source: url.path, line: index + 1))
            } catch {
                throw DatasetError.badLine(file: url.path, line: index + 1, reason: error.reason)
            }
        }
        return events
    }
}
