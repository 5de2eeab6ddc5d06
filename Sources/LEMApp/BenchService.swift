import Foundation
import LEMCore
import LEMEngine
import LEMEval
import LEMScoring
import LEMStore
import Panels

/// The Bench panel's service: the results store (SQLite), read into a `BenchViewModel` on a
/// background queue, and benchmark runs, scoring passes and judge passes started from the panel.
///
/// A run uses the workbench's model from the model pool (shared with Chat) with the LEM settings
/// of `lem bench run`; progress and the reloaded tables reach the panel through `inbox.post`.
/// One job runs at a time; `x` stops it and what was committed stays.
public final class BenchService: @unchecked Sendable {
    let context: AppContext
    let inbox: any WorkbenchInbox
    /// The model runs use (nil: runs are refused with a message).
    let model: ModelKey?
    private let queue = DispatchQueue(label: "lem.bench.store", qos: .userInitiated)
    let lock = NSLock()
    // Guarded by `lock`.
    private var store: ResultStore?
    private var job: Task<Void, Never>?
    private var baseline: String?

    /// A service over the context's database; runs use `model`.
    public init(context: AppContext, inbox: any WorkbenchInbox, model: ModelKey?) {
        self.context = context
        self.inbox = inbox
        self.model = model
    }

    var databaseURL: URL { context.database }

    /// Shows the store's path and reads it.
    public func start() {
        let path = context.paths.short(databaseURL)
        inbox.post { wb in
            wb.bench.model = BenchViewModel()
            wb.bench.model.setSource(path)
            wb.bench.model.setNotice("Reading \(path)…")
        }
        reload()
    }

    /// Stops the running job.
    public func stop() { lock.withLock { job }?.cancel() }

    /// Whether a job is running.
    public var isBusy: Bool { lock.withLock { job != nil } }

    /// Handles one bench intent.
    public func handle(_ intent: BenchIntent) {
        switch intent {
        case .setBaseline(let run):
            inbox.post { [self] wb in
                if wb.bench.model.runs.indices.contains(run) {
                    let name = wb.bench.model.runs[run]
                    lock.withLock { baseline = name }
                }
            }
        case .reload: reload(announce: true)
        case .cancel: lock.withLock { job }?.cancel()
        case .startRun(let request): startRun(request)
        case .score(let scorers): startScoring(scorers)
        case .judge(let request): startJudge(request)
        }
    }

    // MARK: Reading

    func openStore() throws -> ResultStore {
        if let s = lock.withLock({ store }) { return s }
        let s = try ResultStore(url: databaseURL)
        lock.withLock { store = s }
        return s
    }

    /// Reads the store in the background and replaces the panel's data (keeping its selection);
    /// with `announce` (F5), the footer says what was read, so a reload that changes nothing is
    /// still seen to happen.
    func reload(announce: Bool = false) {
        let path = context.paths.short(databaseURL)
        queue.async { [self] in
            // Browsing never creates the database; a run or an import does.
            guard lock.withLock({ store }) != nil || FileManager.default.fileExists(atPath: databaseURL.path) else {
                inbox.post { wb in
                    wb.bench.model.setNotice(
                        "No results store at \(path) yet: lem bench import ../shared/lem, or press r to run a benchmark."
                    )
                    if announce { wb.showNotice("no results store at \(path) yet") }
                }
                return
            }
            do {
                let store = try openStore()
                var vm = Self.viewModel(try BenchBrowser.build(store: store, baseline: lock.withLock { baseline }))
                vm.setSource(path)
                vm.setChoices(judgeModels: judgeCandidates())
                vm.setConsensus(try Self.consensusBoards(store))
                let fresh = vm
                let said =
                    "read \(path) again: \(Self.count(fresh.runs.count, "run")), \(Self.count(fresh.prompts.count, "prompt"))"
                inbox.post { wb in
                    wb.bench.model.replaceData(with: fresh)
                    if announce { wb.showNotice(said) }
                }
            } catch {
                let message = "Cannot read \(path): \(error)"
                inbox.post { wb in wb.bench.model.setNotice(message) }
            }
        }
    }

    /// `1 run`, `5 runs`.
    static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

    /// The panel's view of the store.
    static func viewModel(_ b: BenchBrowser) -> BenchViewModel {
        let prompts = b.prompts.map { p in
            BenchPromptResult(
                id: p.key, benchmark: p.benchmark, prompt: p.prompt, answers: p.answers, scores: p.headline,
                highlights: p.highlights,
                details: p.scores.map { cells in
                    cells.map {
                        BenchScoreDetail(
                            scorer: $0.scorer, dimension: $0.dimension, value: $0.value, status: $0.status.rawValue,
                            reasoning: $0.reasoning ?? "")
                    }
                })
        }
        var vm = BenchViewModel(
            runs: b.models, columns: b.columns, means: b.means, counts: b.counts, prompts: prompts,
            baseline: b.baselineIndex)
        vm.setChoices(runnable: b.runnable, rubrics: JudgeRubric.builtIn.map(\.name))
        if b.models.isEmpty {
            vm.setNotice(
                b.runnable.isEmpty
                    ? "The store is empty: lem bench import ../shared/lem, or press r to run a benchmark."
                    : "No answers yet: press r to run one of \(b.runnable.joined(separator: ", ")).")
        }
        return vm
    }

    // MARK: Jobs

    func post(_ activity: BenchActivity) {
        inbox.post { wb in wb.bench.model.setActivity(activity) }
    }

    /// What a finished job shows: its result line and a caution, if any.
    struct JobResult: Sendable {
        var line: String
        var warning: String?
    }

    /// Starts `body` as the one background job unless another is running.
    func launch(_ title: String, _ body: @escaping @Sendable () async throws -> String) {
        launch(title) { JobResult(line: try await body()) }
    }

    /// Starts `body` as the one background job unless another is running.
    func launch(_ title: String, _ body: @escaping @Sendable () async throws -> JobResult) {
        let busy = lock.withLock { job != nil }
        if busy {
            post(
                BenchActivity(
                    title: title, line: "another job is running; stop it first (x)", running: false, failed: true))
            return
        }
        post(BenchActivity(title: title, line: "starting…"))
        let task = Task.detached { [self] in
            do {
                let result = try await body()
                post(
                    BenchActivity(title: title, line: result.line, fraction: 1, running: false, warning: result.warning)
                )
            } catch is CancellationError {
                post(
                    BenchActivity(title: title, line: "stopped; what was answered is kept (r resumes)", running: false))
            } catch {
                post(BenchActivity(title: title, line: "\(error)", running: false, failed: true))
            }
            lock.withLock { job = nil }
            reload()
        }
        lock.withLock { job = task }
    }

    private func startRun(_ request: BenchRunRequest) {
        guard let model else {
            post(
                BenchActivity(
                    title: "run", line: "no model: start lem workbench with --model PATH", running: false,
                    failed: true))
            return
        }
        let title = "run \(request.benchmark) · \(model.title)"
        launch(title) { [self] in
            let store = try openStore()
            let bench = try BenchmarkSource.resolve(
                request.benchmark, store: store, seedsDirectory: context.paths.seedsDirectory)
            var plan = BenchRunPlan(
                model: model, benchmark: bench, limit: request.limit, maxTokens: request.maxTokens,
                seed: request.seed)
            try plan.setKernelMode(named: request.kernel, directory: context.paths.kernelDirectory)
            try plan.validate()
            try plan.checkUnclaimed(store: store)
            if context.pool.cached(model) == nil { post(BenchActivity(title: title, line: "loading \(model.title)…")) }
            let loaded = try context.pool.model(for: model)
            let meter = RunMeter()
            let runID = try await plan.run(store: store, model: loaded) { [self] event in
                let p = meter.apply(event)
                post(
                    BenchActivity(
                        title: title, line: p.line, fraction: p.total > 0 ? Double(p.done) / Double(p.total) : nil))
                if case .response = event, p.sessionItems % 5 == 0 { reload() }
            }
            let p = meter.progress
            return "run \(runID) complete: \(p.done)/\(p.total) answered, \(p.sessionItems) now"
        }
    }

    private func startScoring(_ names: [String]) {
        let title = "score " + names.joined(separator: " ")
        launch(title) { [self] in
            let store = try openStore()
            let scorers = try ScoringPass.scorers(named: names)
            // Each scorer scores only the benchmarks it is made for; the summary says what it skipped.
            let summary = try ScoringPass.run(scorers, store: store) { [self] done, total in
                if done % 20 == 0 || done == total {
                    post(
                        BenchActivity(
                            title: title, line: "[\(done)/\(total)] responses",
                            fraction: total > 0 ? Double(done) / Double(total) : nil))
                }
            }
            try Task.checkCancellation()
            return (["wrote \(summary.written) scores for \(summary.responses) answers"] + summary.notes).joined(
                separator: "; ")
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
