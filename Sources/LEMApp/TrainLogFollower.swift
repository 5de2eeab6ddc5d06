import Foundation
import LEMCore
import Panels

/// Follows a growing `train-log.jsonl` (like `tail -f`): a timer on a background queue reads
/// newly appended bytes, keeps a half-written last line for the next read, parses complete
/// lines with `TrainLogParser` and posts them to the Train panel. A truncated or replaced file
/// is read again from the start.
public final class TrainLogFollower: @unchecked Sendable {
    let url: URL
    let pollInterval: Double
    let inbox: any WorkbenchInbox
    private let queue = DispatchQueue(label: "lem.train-log")
    private var timer: DispatchSourceTimer?
    // Touched only on `queue`.
    private var offset: UInt64 = 0
    private var pending = ""
    private var lineNumber = 1
    private var inode: UInt64 = 0

    /// A follower of the log at `url`.
    public init(url: URL, inbox: any WorkbenchInbox, pollInterval: Double = 0.5) {
        self.url = url
        self.inbox = inbox
        self.pollInterval = pollInterval
    }

    /// Shows an empty run and starts polling.
    public func start() {
        let runName = url.deletingLastPathComponent().lastPathComponent
        inbox.post { wb in wb.train.model = TrainViewModel(runName: runName) }
        let t = DispatchSource.makeTimerSource(queue: queue)
        t.schedule(deadline: .now(), repeating: pollInterval)
        t.setEventHandler { [weak self] in self?.poll() }
        t.resume()
        timer = t
    }

    /// Stops polling.
    public func stop() {
        timer?.cancel()
        timer = nil
    }

    /// Reads whatever was appended since the last poll (runs on `queue`).
    func poll() {
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: url.path) else { return }
        let size = (attrs[.size] as? NSNumber)?.uint64Value ?? 0
        let node = (attrs[.systemFileNumber] as? NSNumber)?.uint64Value ?? 0
        if size < offset || node != inode {
            // Truncated or replaced: start over.
            let restart = offset > 0
            offset = 0
            pending = ""
            lineNumber = 1
            inode = node
            if restart {
                let runName = url.deletingLastPathComponent().lastPathComponent
                inbox.post { wb in wb.train.model = TrainViewModel(runName: runName) }
            }
        }
        guard size > offset, let handle = try? FileHandle(forReadingFrom: url) else { return }
        defer { try? handle.close() }
        guard (try? handle.seek(toOffset: offset)) != nil,
            let data = try? handle.read(upToCount: Int(min(size - offset, 8 << 20)))
        else { return }
        offset += UInt64(data.count)
        let chunk = String(decoding: data, as: UTF8.self)
        let lines = TrainLogParser.completeLines(appending: chunk, pending: &pending)
        guard !lines.isEmpty else { return }
        let (events, issues) = TrainLogParser.parse(lines, source: url.path, firstLine: lineNumber)
        lineNumber += lines.count
        inbox.post { wb in
            wb.train.model.apply(events)
            wb.train.model.addIssues(issues.map(\.description))
        }
    }
}
