import Foundation
import LEMScoring
import LEMStore

/// Runs an LLM judge over stored responses: one rubric per benchmark, a bounded number of
/// requests in flight, retries with exponential backoff, and each verdict committed on its own.
///
/// A reply that is not valid JSON, or lacks a dimension, is stored as `unscored` with the raw
/// reply kept once for the response (at most `maxKeptReplyBytes`) — never replaced by a
/// default number. A call that still fails after the retries is
/// stored as `failed` with the error, and is retried by the next pass; responses that already
/// hold a scored judge verdict are skipped unless `rescore` is set, so a pass can be resumed.
public struct JudgePass: Sendable {
    /// Tuning for a pass.
    public struct Settings: Sendable {
        /// Requests in flight at once.
        public var concurrency: Int
        /// Extra attempts after a retryable failure.
        public var retries: Int
        /// Delay before the first retry, doubled for each further one (seconds).
        public var backoff: Double
        /// Judge every response again even if it already has a verdict.
        public var rescore: Bool

        /// Creates settings.
        public init(concurrency: Int = 4, retries: Int = 3, backoff: Double = 1, rescore: Bool = false) {
            self.concurrency = max(1, concurrency)
            self.retries = max(0, retries)
            self.backoff = backoff
            self.rescore = rescore
        }
    }

    /// Progress of a pass.
    public enum Event: Sendable {
        /// `count` responses will be judged.
        case started(count: Int)
        /// One response finished with this status; `reason` says why it is not scored.
        case judged(
            model: String, benchmark: String, item: String, status: ScoreStatus, reason: String?, done: Int,
            total: Int)
    }

    /// What a pass did.
    public struct Summary: Sendable, Equatable, CustomStringConvertible {
        public var scored = 0
        public var unscored = 0
        public var failed = 0
        public var skipped = 0
        /// Why answers were left unscored or failed, with how many each.
        public var reasons: [String: Int] = [:]

        /// Answers judged by the pass (skipped ones left out).
        public var judged: Int { scored + unscored + failed }

        /// `0 scored, 50 unscored, 0 failed, 0 already judged; not scored: reply holds no JSON
        /// object: 50 of 50` — the three commonest reasons, then how many others.
        public var description: String {
            var text = "\(scored) scored, \(unscored) unscored, \(failed) failed, \(skipped) already judged"
            guard !reasons.isEmpty else { return text }
            let ranked = reasons.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            var parts = ranked.prefix(3).map { "\($0.key): \($0.value) of \(judged)" }
            if ranked.count > 3 { parts.append("\(ranked.count - 3) other reasons") }
            text += "; not scored: " + parts.joined(separator: "; ")
            return text
        }
    }

    /// The scorer name judge verdicts are stored under.
    public static let scorerName = "judge"

    let store: ResultStore
    let backend: any JudgeBackend
    let rubrics: [JudgeRubric]
    let settings: Settings

    /// Creates a pass.
    public init(
        store: ResultStore, backend: any JudgeBackend, rubrics: [JudgeRubric] = JudgeRubric.builtIn,
        settings: Settings = Settings()
    ) {
        self.store = store
        self.backend = backend
        self.rubrics = rubrics
        self.settings = settings
    }

    /// Judges the selected responses (all benchmarks with a rubric when `benchmarks` is empty).
    public func run(
        benchmarks: [String] = [], models: [String] = [],
        progress: @escaping @Sendable (Event) -> Void = { _ in }
    ) async throws -> Summary {
        var summary = Summary()
        var judged: Set<Int64> = []
        if !settings.rescore {
            judged = try store.responsesScored(by: Self.scorerName)
        }
        var work: [(ScoringTarget, JudgeRubric)] = []
        for t in try store.responses(benchmarks: benchmarks, models: models) {
            guard let rubric = rubrics.first(where: { $0.benchmarks.contains(t.benchmark) }) else { continue }
            if judged.contains(t.responseID) {
                summary.skipped += 1
                continue
            }
            work.append((t, rubric))
        }
        progress(.started(count: work.count))
        var done = 0
        try await withThrowingTaskGroup(of: (ScoringTarget, Outcome).self) { group in
            var next = 0
            func launch() {
                let (t, rubric) = work[next]
                next += 1
                group.addTask { (t, try await self.judge(t, rubric)) }
            }
            while next < min(settings.concurrency, work.count) { launch() }
            while let (t, outcome) = try await group.next() {
                done += 1
                switch outcome.status {
                case .scored: summary.scored += 1
                case .unscored: summary.unscored += 1
                case .failed: summary.failed += 1
                }
                if let reason = outcome.reason { summary.reasons[reason, default: 0] += 1 }
                progress(
                    .judged(
                        model: t.model, benchmark: t.benchmark, item: t.itemKey, status: outcome.status,
                        reason: outcome.reason, done: done, total: work.count))
                if next < work.count { launch() }
            }
        }
        return summary
    }

    /// How one response came out, and why when it is not scored.
    struct Outcome: Sendable, Equatable {
        var status: ScoreStatus
        var reason: String?
    }

    /// Judges one response and stores the outcome; returns the overall status and why it is not
    /// scored (the stored reasoning).
    func judge(_ t: ScoringTarget, _ rubric: JudgeRubric) async throws -> Outcome {
        let version = "\(rubric.name)@\(rubric.version) \(backend.identity)"
        var reference = t.reference
        if reference["domain"] == nil, let d = t.reference["category"] { reference["domain"] = d }
        let prompt: String
        switch rubric.render(prompt: t.prompt, response: t.response, reference: reference) {
        case .success(let p): prompt = p
        case .failure(let missing):
            let reason = "item has no `\(missing.name)` field for rubric \(rubric.name)"
            try write(
                t, version,
                rubric.dimensions.map {
                    StoredScore(dimension: $0, value: nil, status: .unscored, reasoning: reason)
                })
            return Outcome(status: .unscored, reason: reason)
        }
        var attempt = 0
        while true {
            try Task.checkCancellation()
            do {
                let reply = try await backend.complete(prompt: prompt)
                let verdict = JudgeVerdict.parse(reply, dimensions: rubric.dimensions)
                let rows = rubric.dimensions.map { d -> StoredScore in
                    if let v = verdict.values[d] ?? nil {
                        return StoredScore(dimension: d, value: v, status: .scored, reasoning: verdict.reasoning)
                    }
                    return StoredScore(
                        dimension: d, value: nil, status: .unscored,
                        reasoning: verdict.problem ?? verdict.reasoning)
                }
                try write(t, version, rows, reply: verdict.isComplete ? nil : Self.kept(reply))
                return verdict.isComplete
                    ? Outcome(status: .scored) : Outcome(status: .unscored, reason: verdict.problem)
            } catch let error as JudgeError {
                if error.retryable, attempt < settings.retries {
                    let delay = settings.backoff * pow(2, Double(attempt))
                    attempt += 1
                    try await Task.sleep(nanoseconds: UInt64(delay * 1e9))
                    continue
                }
                let reason = "\(error.message) (after \(attempt + 1) attempt\(attempt == 0 ? "" : "s"))"
                try write(
                    t, version,
                    rubric.dimensions.map {
                        StoredScore(dimension: $0, value: nil, status: .failed, reasoning: reason)
                    })
                return Outcome(status: .failed, reason: reason)
            }
        }
    }

    func write(_ t: ScoringTarget, _ version: String, _ rows: [StoredScore], reply: String? = nil) throws {
        try store.putScores(responseID: t.responseID, scorer: Self.scorerName, version: version, rows, reply: reply)
    }

    /// The most bytes of an unreadable reply kept in the store: enough to see what the judge
    /// did, bounded whatever the backend lets through.
    public static let maxKeptReplyBytes = 64 << 10

    /// `reply` cut to `maxKeptReplyBytes` (on a character boundary) with a note of the rest.
    static func kept(_ reply: String) -> String {
        let bytes = reply.utf8.count
        guard bytes > maxKeptReplyBytes else { return reply }
        var end = reply.utf8.index(reply.utf8.startIndex, offsetBy: maxKeptReplyBytes)
        while reply.utf8[end] & 0xC0 == 0x80 { end = reply.utf8.index(before: end) }  // not mid-character
        let head = String(reply[..<end])
        return head + "\n… (\(bytes - head.utf8.count) more bytes not kept)"
    }
}
