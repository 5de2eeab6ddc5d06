import ArgumentParser
import Foundation
import LEMApp
import Panels

/// `lem workbench`: opens the terminal UI.
struct WorkbenchCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "workbench",
        abstract: "Open the terminal workbench (chat, train, bench, attention).",
        discussion: """
            Chat runs on the model given by --model (default: the installed SmolLM2-135M-Instruct); F2 \
            picks another installed model or an adapter folder (under --adapters, default \
            ~/.cache/lem/adapters and ./adapters), the sampler, system prompt and kernel mode; F3 lists \
            the chat sessions saved in the results database (--db). Train starts LoRA runs in this process (n) or follows \
            a train-log.jsonl (--train-log). Bench reads the results database (--db): paper tables, per-prompt \
            browser, runs started from the panel. Attention captures the current prompt's attention \
            (--attention-compare adds a second model or adapter to diff against).
            Themes: \(Theme.builtinNames.joined(separator: ", ")), or your own in ~/.config/lem/themes/.
            Key bindings: override them in ~/.config/lem/keys (see keys/default.keys).
            """)

    @Option(help: "Theme name (built-in or ~/.config/lem/themes/<name>.theme).")
    var theme: String?

    @Option(help: "A train-log.jsonl to follow in the Train panel.")
    var trainLog: String?

    @OptionGroup var model: ModelOption

    @Flag(
        help:
            "Show canned demo data in every panel (chat replies, a made-up training run, bench and attention) instead of a model."
    )
    var demoChat = false

    @Option(
        name: .customLong("adapters"),
        help: "A folder searched for adapter folders (repeatable; default ~/.cache/lem/adapters and ./adapters).")
    var adapterRoots: [String] = []

    @Option(
        help: "A second model, or an adapter folder for --model, whose attention the Attention panel compares with.")
    var attentionCompare: String?

    @OptionGroup var database: DatabaseOption

    @Option(
        name: .customLong("prompt-cache-file"),
        help: ArgumentHelp(
            "A saved prompt (lem cache-prompt) the models it was made for start with: chat turns and bench items "
                + "that begin with its tokens continue from it (repeatable)."))
    var promptCacheFiles: [String] = []

    func run(in context: AppContext) async throws {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            throw ValidationError("lem workbench needs a terminal (stdin and stdout must be a TTY)")
        }
        let seeds = promptCacheFiles.map { promptCacheURL($0, in: context) }
        for url in seeds where !FileManager.default.fileExists(atPath: url.path) {
            throw ValidationError("--prompt-cache-file: no such file \(url.path)")
        }
        context.pool.promptCacheFiles = seeds
        let config = WorkbenchConfig.load(
            environment: context.environment, directory: context.paths.configDirectory,
            themeName: theme)
        var context = context
        context.database = database.url(in: context)
        let log = try trainLog.map { path -> URL in
            let url = context.paths.resolve(path)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw ValidationError("no such train log: \(path)")
            }
            return url
        }
        let mode: WorkbenchController.Mode
        if demoChat {
            // Every panel on canned data (the footer says "demo data").
            mode = .demo
        } else {
            let key = try model.key(in: context)
            mode = .live(
                model: key,
                compare: try attentionCompare.map {
                    AttentionService.compareKey(try context.resolveModel($0), base: key)
                })
        }
        let roots = adapterRoots.isEmpty ? nil : adapterRoots.map { context.paths.resolve($0) }
        let runner = try WorkbenchRunner(config: config, environment: context.environment) { inbox in
            WorkbenchController(context: context, inbox: inbox, mode: mode, trainLog: log, adapterRoots: roots)
        }
        try runner.run()
    }
}

/// `lem bench-ui`: measures full-frame render time without a terminal.
struct BenchUICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-ui",
        abstract: "Measure full-frame render and diff time of every panel at a given size (demo data).")

    @Option(help: "Screen width in cells.") var width = 200
    @Option(help: "Screen height in cells.") var height = 60
    @Option(help: "Frames per panel.") var frames = 300

    func run() throws {
        var wb = DemoService.sampleWorkbench()
        print("full-frame render at \(width)x\(height), \(frames) frames per panel (demo data)")
        print("panel       mean ms   p50 ms   max ms   diff ms")
        for panel in PanelID.allCases {
            wb.selected = panel
            var previous = ScreenBuffer(width: width, height: height)
            var times: [Double] = []
            var diffTimes: [Double] = []
            var changed = 0
            for f in 0..<frames {
                if panel == .chat { wb.chat.scrollBack = f % 7 }  // vary the frame a little
                var frame = ScreenBuffer(width: width, height: height)
                let t0 = DispatchTime.now().uptimeNanoseconds
                wb.render(into: &frame)
                let t1 = DispatchTime.now().uptimeNanoseconds
                // The driver's diff: compare every cell with the previous frame.
                changed = 0
                for i in frame.cells.indices where frame.cells[i] != previous.cells[i] { changed += 1 }
                let t2 = DispatchTime.now().uptimeNanoseconds
                times.append(Double(t1 - t0) / 1e6)
                diffTimes.append(Double(t2 - t1) / 1e6)
                previous = frame
            }
            let sorted = times.sorted()
            let mean = times.reduce(0, +) / Double(times.count)
            let diffMean = diffTimes.reduce(0, +) / Double(diffTimes.count)
            let name = wb.current.title.padding(toLength: 10, withPad: " ", startingAt: 0)
            print(
                String(
                    format: "%@ %8.3f %8.3f %8.3f %9.3f   (last diff: %d cells)", name, mean, sorted[sorted.count / 2],
                    sorted.last!, diffMean, changed))
        }
    }
}
