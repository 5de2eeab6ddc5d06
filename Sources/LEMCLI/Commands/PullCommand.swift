import ArgumentParser
import Foundation
import LEMApp
import LEMFormats

/// `lem pull ORG/NAME`: downloads a model from the Hugging Face Hub into the Hugging Face cache.
struct PullCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Download a model from the Hugging Face Hub (or $HF_ENDPOINT) into the Hugging Face cache.",
        discussion: """
            Files land where huggingface_hub puts them ($HF_HUB_CACHE, else $HF_HOME/hub, else \
            ~/.cache/huggingface/hub), so transformers and mlx_lm find them too; --model ORG/NAME then \
            opens the model. An interrupted pull resumes; LFS files are checked against their sha256. \
            HF_TOKEN is sent for gated and private models.
            """)

    @Argument(help: "Repository id, ORG/NAME.") var repo: String
    @Option(help: "Branch, tag or commit.") var revision: String = "main"
    @Option(help: "Only files matching this glob (fnmatch, as huggingface_hub's allow_patterns); repeatable.")
    var include: [String] = []

    func run(in context: AppContext) async throws {
        var endpoint = HubDownloader.defaultEndpoint
        if let custom = context.variable("HF_ENDPOINT") {
            guard let url = URL(string: custom), url.scheme == "http" || url.scheme == "https", url.host != nil else {
                throw ValidationError("HF_ENDPOINT must be an http(s) URL (got \(custom))")
            }
            endpoint = url
        }
        let downloader = HubDownloader(cache: context.hubCache, endpoint: endpoint, token: context.variable("HF_TOKEN"))
        let bar = ProgressLine()
        let snapshot: HubCache.Snapshot
        do {
            snapshot = try downloader.pull(repo: repo, revision: revision, include: include) { bar.show($0) }
        } catch {
            bar.end()
            throw CommandFailure(description: "\(error)")
        }
        bar.end()
        print("\(repo)@\(snapshot.commit.prefix(12)) → \(context.paths.short(snapshot.url))")
    }
}

/// One self-overwriting progress line on standard error: file, bytes, percent, rate, ETA (drawn
/// only when standard error is a terminal; a log gets one line per file).
private final class ProgressLine: @unchecked Sendable {
    private let lock = NSLock()
    private let live = isatty(STDERR_FILENO) == 1
    private var file = ""
    private var started = Date()
    private var startBytes: Int64 = 0
    private var dirty = false

    func show(_ event: HubDownloader.Event) {
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .listed(let commit, let files):
            printError("\(files.count) file(s) at \(commit.prefix(12))")
        case .cached(let name):
            clear()
            printError("  \(name): already in the cache")
        case .progress(let name, let received, let total):
            guard live else { return }
            if name != file {
                file = name
                started = Date()
                startBytes = received
            }
            let elapsed = max(Date().timeIntervalSince(started), 1e-3)
            let rate = Double(received - startBytes) / elapsed
            var line = "  \(name)  \(Self.megabytes(received))"
            if let total, total > 0 {
                line += " / \(Self.megabytes(total)) MB  \(Int(Double(received) * 100 / Double(total)))%"
                if rate > 0 { line += "  ETA \(Self.clock(Double(total - received) / rate))" }
            } else {
                line += " MB"
            }
            line += String(format: "  %.1f MB/s", rate / 1_048_576)
            FileHandle.standardError.write(Data(("\r" + line + "\u{1B}[K").utf8))
            dirty = true
        case .finished(let name, let bytes):
            clear()
            printError("  \(name): \(Self.megabytes(bytes)) MB")
        }
    }

    func end() {
        lock.lock()
        defer { lock.unlock() }
        clear()
    }

    private func clear() {
        if dirty { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        dirty = false
    }

    static func megabytes(_ bytes: Int64) -> String { String(format: "%.1f", Double(bytes) / 1_048_576) }

    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds < 360_000 else { return "--:--" }
        let s = Int(seconds.rounded())
        return s >= 3600
            ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
