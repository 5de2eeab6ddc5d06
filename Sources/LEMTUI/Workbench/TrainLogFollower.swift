import Foundation
import Panels

/// Follows a growing `train-log.jsonl` (like `tail -f`): a timer on a background queue reads
/// newly appended bytes, keeps a half-written last line for the next read, parses complete
/// lines with `TrainLogParser` and posts them to the train panel. A truncated or replaced file
/// is read again from the start.
final class TrainLogFollower: WorkbenchSource, @unchecked Sendable {
    let url: URL
    let pollInterval: Double
    private let queue = DispatchQueue(label: "lem.workbench.train-log")
    private var timer: DispatchSourceTimer?
    // Touched only on `queue`.
    private var offset: UInt64 = 0
    private var pending = ""
    private var lineNumber = 1
    private var inode: UInt64 = 0

    var name: String { "train log \(url.lastPathComponent)" }
    var isDemo: Bool { false }

    init(url: URL, pollInterval: Double = 0.5) {
        self.url = url
        self.pollInterval = pollInterval
    }

    func start(inbox: EventInbox) {
        let runName = url.deletingLastPathComponent().lastPathComponent
        inbox.post { wb in wb.train.model = TrainViewModel(runName: runName) }
        let t = DispatchSource.makeTimerSource(queue: queue)
        t.schedule(deadline: .now(), repeating: pollInterval)
        t.setEventHandler { [weak self] in self?.poll(inbox: inbox) }
        t.resume()
        timer = t
    }

    func perform(_ intent: WorkbenchIntent, inbox: EventInbox) {}

    func stop() {
        timer?.cancel()
        timer = nil
    }

    /// Reads whatever was appended since the last poll (runs on `queue`).
    func poll(inbox: EventInbox) {
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
        guard (try? handle.seek(toOffset: offset)) != nil, let data = try? handle.read(upToCount: Int(min(size - offset, 8 << 20))) else { return }
        offset += UInt64(data.count)
        let chunk = String(decoding: data, as: UTF8.self)
        let lines = TrainLogParser.completeLines(appending: chunk, pending: &pending)
        guard !lines.isEmpty else { return }
        let (records, issues) = TrainLogParser.parse(lines, source: url.path, firstLine: lineNumber)
        lineNumber += lines.count
        inbox.post { wb in
            wb.train.model.apply(records)
            wb.train.model.issues += issues.map(\.description)
        }
    }
}
