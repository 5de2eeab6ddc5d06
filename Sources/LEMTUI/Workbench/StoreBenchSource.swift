import Foundation
import LEMScoring
import LEMStore
import Panels

/// The Bench panel's real source: the results store (SQLite), read into a `BenchViewModel` on a
/// background queue, and benchmark runs / scoring passes started from the panel.
///
/// A run uses the workbench's model (loaded once, on first use) with the LEM settings of
/// `lem bench run`; progress and the reloaded tables reach the panel through `inbox.post`.
final class StoreBenchSource: WorkbenchSource, @unchecked Sendable {
    var name: String { "store" }
    var isDemo: Bool { false }

    let databaseURL: URL
    let modelURL: URL?
    private let kernelDirectory: URL?
    private let seedsDirectory: URL?
    private let queue = DispatchQueue(label: "lem.workbench.store", qos: .userInitiated)
    let lock = NSLock()
    // Guarded by `lock`.
    private var store: ResultStore?
    var model: LocalChatModel?
    /// The last local judge loaded (path, model), kept for the next pass.
    var judge: (path: String, model: LocalChatModel)?
    private var job: Task<Void, Never>?
    private var baseline: String?

    /// Creates a source over the database at `databaseURL`; runs use the model at `modelURL`.
    init(databaseURL: URL, modelURL: URL?, kernelDirectory: URL?, seedsDirectory: URL?) {
        self.databaseURL = databaseURL
        self.modelURL = modelURL
        self.kernelDirectory = kernelDirectory
        self.seedsDirectory = seedsDirectory
    }

    func start(inbox: EventInbox) {
        let path = Self.shortPath(databaseURL)
        inbox.post { wb in
            wb.bench.model = BenchViewModel()
            wb.bench.model.source = path
            wb.bench.model.notice = "Reading \(path)…"
        }
        reload(inbox: inbox)
    }

    func stop() {
        lock.withLock { job }?.cancel()
    }

    func perform(_ intent: WorkbenchIntent, inbox: EventInbox) {
        switch intent {
        case .setBaseline(let run):
            inbox.post { [self] wb in
                if wb.bench.model.runs.indices.contains(run) { lock.withLock { baseline = wb.bench.model.runs[run] } }
            }
        case .bench(.reload):
            reload(inbox: inbox)
        case .bench(.cancel):
            lock.withLock { job }?.cancel()
        case .bench(.startRun(let request)):
            startRun(request, inbox: inbox)
        case .bench(.score(let scorers)):
            startScoring(scorers, inbox: inbox)
        case .bench(.judge(let request)):
            startJudge(request, inbox: inbox)
        default:
            break
        }
    }

    // MARK: Reading

    /// `~/…` for paths below the home directory.
    static func shortPath(_ url: URL) -> String {
        let home = FileManager.default.homeDirectoryForCurrentUser.path
        return url.path.hasPrefix(home + "/") ? "~" + url.path.dropFirst(home.count) : url.path
    }

    func openStore() throws -> ResultStore {
        if let s = lock.withLock({ store }) { return s }
        let s = try ResultStore(url: databaseURL)
        lock.withLock { store = s }
        return s
    }

    /// Reads the store in the background and replaces the panel's data (keeping its selection).
    func reload(inbox: EventInbox) {
        let path = Self.shortPath(databaseURL)
        queue.async { [self] in
            // Browsing never creates the database; a run or an import does.
            guard lock.withLock({ store }) != nil || FileManager.default.fileExists(atPath: databaseURL.path) else {
                inbox.post { wb in
                    wb.bench.model.notice = "No results store at \(path) yet: lem bench import ../shared/lem, or press r to run a benchmark."
                }
                return
            }
            do {
                let store = try openStore()
                var vm = Self.viewModel(try BenchBrowser.build(store: store, baseline: lock.withLock { baseline }))
                vm.source = path
                vm.judgeModels = judgeCandidates()
                let model = vm
                inbox.post { wb in
                    let activity = wb.bench.model.activity
                    wb.bench.model = model
                    wb.bench.model.activity = activity
                }
            } catch {
                let message = "Cannot read \(path): \(error)"
                inbox.post { wb in wb.bench.model.notice = message }
            }
        }
    }

    /// The panel's view of the store.
    static func viewModel(_ b: BenchBrowser) -> BenchViewModel {
        let prompts = b.prompts.map { p in
            BenchPromptResult(
                id: p.key, benchmark: p.benchmark, prompt: p.prompt, answers: p.answers, scores: p.headline,
                highlights: p.highlights,
                details: p.scores.map { cells in
                    cells.map {
                        BenchScoreDetail(scorer: $0.scorer, dimension: $0.dimension, value: $0.value, status: $0.status.rawValue,
                                         reasoning: $0.reasoning ?? "")
                    }
                })
        }
        var vm = BenchViewModel(runs: b.models, columns: b.columns, means: b.means, counts: b.counts, prompts: prompts,
                                baseline: b.baselineIndex)
        vm.runnable = b.runnable
        vm.rubrics = JudgeRubric.builtIn.map(\.name)
        if b.models.isEmpty {
            vm.notice = b.runnable.isEmpty
                ? "The store is empty: lem bench import ../shared/lem, or press r to run a benchmark."
                : "No answers yet: press r to run one of \(b.runnable.joined(separator: ", "))."
        }
        return vm
    }

    // MARK: Jobs

    func post(_ activity: BenchActivity, inbox: EventInbox) {
        inbox.post { wb in wb.bench.model.activity = activity }
    }

    /// Starts `body` as the one background job unless another is running.
    func launch(_ title: String, inbox: EventInbox, _ body: @escaping @Sendable () async throws -> String) {
        let busy = lock.withLock { job != nil }
        if busy {
            post(BenchActivity(title: title, line: "another job is running; stop it first (x)", running: false, failed: true),
                 inbox: inbox)
            return
        }
        post(BenchActivity(title: title, line: "starting…"), inbox: inbox)
        let task = Task.detached { [self] in
            do {
                let summary = try await body()
                post(BenchActivity(title: title, line: summary, fraction: 1, running: false), inbox: inbox)
            } catch is CancellationError {
                post(BenchActivity(title: title, line: "stopped; what was answered is kept (r resumes)", running: false),
                     inbox: inbox)
            } catch {
                post(BenchActivity(title: title, line: "\(error)", running: false, failed: true), inbox: inbox)
            }
            lock.withLock { job = nil }
            reload(inbox: inbox)
        }
        lock.withLock { job = task }
    }

    private func startRun(_ request: BenchRunRequest, inbox: EventInbox) {
        guard let modelURL else {
            post(BenchActivity(title: "run", line: "no model: start lem workbench with --model PATH", running: false, failed: true),
                 inbox: inbox)
            return
        }
        let title = "run \(request.benchmark) · \(modelURL.lastPathComponent)"
        launch(title, inbox: inbox) { [self] in
            let store = try openStore()
            let bench = try BenchmarkSource.resolve(request.benchmark, store: store, seedsDirectory: seedsDirectory)
            var plan = BenchRunPlan(modelURL: modelURL, benchmark: bench, limit: request.limit,
                                    maxTokens: request.maxTokens, seed: request.seed)
            try plan.setKernelMode(named: request.kernel, directory: kernelDirectory)
            try plan.validate()
            let loaded: LocalChatModel
            if let m = lock.withLock({ model }) {
                loaded = m
            } else {
                post(BenchActivity(title: title, line: "loading \(modelURL.lastPathComponent)…"), inbox: inbox)
                loaded = try plan.loadModel(options: EngineDefaults.options)
                lock.withLock { model = loaded }
            }
            let meter = RunMeter()
            let runID = try await plan.run(store: store, model: loaded) { [self] event in
                let p = meter.apply(event)
                post(BenchActivity(title: title, line: p.line, fraction: p.total > 0 ? Double(p.done) / Double(p.total) : nil),
                     inbox: inbox)
                if case .response = event, p.sessionItems % 5 == 0 { reload(inbox: inbox) }
            }
            let p = meter.progress
            return "run \(runID) complete: \(p.done)/\(p.total) answered, \(p.sessionItems) now"
        }
    }

    private func startScoring(_ names: [String], inbox: EventInbox) {
        let title = "score " + names.joined(separator: " ")
        launch(title, inbox: inbox) { [self] in
            let store = try openStore()
            var scorers: [any TextScorer] = []
            for name in names {
                switch name {
                case "gsm8k": scorers += GSM8KScorer.Rule.allCases.map { GSM8KScorer(rule: $0) }
                case "lek-heuristic": scorers.append(LEKHeuristic())
                case "patterns": scorers.append(PatternScorer())
                case "grammar": scorers.append(GrammarDifferential())
                case "authority": scorers.append(AuthorityDetector())
                default: throw ValidationErrorText("unknown scorer \(name)")
                }
            }
            let gsmOnly = scorers.allSatisfy { $0 is GSM8KScorer }
            let written = try ScoringPass.run(scorers, store: store, benchmarks: gsmOnly ? ["gsm8k"] : []) { [self] done, total in
                if done % 20 == 0 || done == total {
                    post(BenchActivity(title: title, line: "[\(done)/\(total)] responses",
                                       fraction: total > 0 ? Double(done) / Double(total) : nil), inbox: inbox)
                }
            }
            try Task.checkCancellation()
            return "wrote \(written) scores"
        }
    }
}

/// Progress of a run as seen by the panel (events arrive on the runner's task).
private final class RunMeter: @unchecked Sendable {
    private let lock = NSLock()
    private var state = BenchProgress()
    private let start = Date()

    func apply(_ event: BenchRunEvent) -> BenchProgress {
        lock.withLock {
            state.apply(event, elapsed: Date().timeIntervalSince(start))
            return state
        }
    }

    var progress: BenchProgress { lock.withLock { state } }
}
