import Foundation
import LEMScoring
import LEMStore

/// One of a consensus run's judges: a name (stored with its votes), something that answers
/// prompts, and the pairwise prompt it is asked with.
public struct ConsensusJudge: Sendable {
    /// The judge's name in the votes.
    public var name: String
    /// What answers its prompts (a local model, an OpenAI-compatible endpoint).
    public var backend: any JudgeBackend
    /// Its prompt (a rubric variant when several judges share one model).
    public var prompt: PairwisePrompt

    /// Creates a judge.
    public init(name: String, backend: any JudgeBackend, prompt: PairwisePrompt = .standard) {
        self.name = name
        self.backend = backend
        self.prompt = prompt
    }
}

/// Matrix-8 pairwise judging: for each item of a benchmark answered by two or more of the given
/// models (their latest runs), each pair of models and each judge, the judge compares the two
/// answers in both orders and says A, B or tie; every look is stored in `consensus_vote`.
///
/// Resumable: a (benchmark, item, judge, order) already voted or unparsed on the same stored
/// answers is skipped; failed calls (after `retries` with doubling backoff) are asked again by
/// the next run. A reply without a verdict is stored as `unparsed` with the reply, never a vote.
public struct ConsensusPass: Sendable {
    /// Progress of a run.
    public enum Event: Sendable {
        /// `count` looks will be asked for; `skipped` are already stored.
        case started(count: Int, skipped: Int)
        /// One look ended.
        case looked(ConsensusVoteRecord, done: Int, total: Int)
    }

    /// What a run did.
    public struct Summary: Sendable, Equatable, CustomStringConvertible {
        public var voted = 0
        public var unparsed = 0
        public var failed = 0
        public var skipped = 0
        /// Why looks gave no vote, with how many each.
        public var reasons: [String: Int] = [:]

        public var description: String {
            var text =
                "\(voted) votes, \(unparsed) replies without a verdict, \(failed) failed, \(skipped) already stored"
            let ranked = reasons.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            if !ranked.isEmpty {
                text += "; no vote: " + ranked.prefix(3).map { "\($0.key): \($0.value)" }.joined(separator: "; ")
            }
            return text
        }
    }

    let store: ResultStore
    let judges: [ConsensusJudge]
    let concurrency: Int
    let retries: Int
    let backoff: Double

    /// Creates a pass; `concurrency` looks are in flight at once.
    public init(
        store: ResultStore, judges: [ConsensusJudge], concurrency: Int = 4, retries: Int = 3, backoff: Double = 1
    ) {
        self.store = store
        self.judges = judges
        self.concurrency = max(1, concurrency)
        self.retries = max(0, retries)
        self.backoff = backoff
    }

    /// One look to ask for: the item's question, the two answers in the order shown, the judge.
    struct Look: Sendable {
        var item: String
        var question: String
        var first: ScoringTarget
        var second: ScoringTarget
        var judge: Int
    }

    /// The looks `benchmark` needs between `models` that are not stored yet, and how many are;
    /// `limit` keeps the first items (by key) only.
    func plan(benchmark: String, models: [String], limit: Int?) throws -> (looks: [Look], skipped: Int) {
        var answers: [String: [String: ScoringTarget]] = [:]  // item → model → answer
        for t in try store.responses(benchmarks: [benchmark], models: models) where !t.response.isEmpty {
            answers[t.itemKey, default: [:]][t.model] = t
        }
        var stored: [String: ConsensusVoteRecord] = [:]
        for r in try store.consensusVotes(benchmark: benchmark, models: models) {
            stored[[r.item, r.judge, r.first, r.second].joined(separator: "\u{1F}")] = r
        }
        var looks: [Look] = []
        var skipped = 0
        for item in answers.keys.sorted().prefix(max(0, limit ?? Int.max)) {
            let byModel = answers[item]!
            for (x, a) in models.enumerated() {
                for b in models[(x + 1)...] {
                    guard let ta = byModel[a], let tb = byModel[b] else { continue }
                    for judge in judges.indices {
                        for (first, second) in [(ta, tb), (tb, ta)] {
                            let key = [item, judges[judge].name, first.model, second.model].joined(separator: "\u{1F}")
                            if let r = stored[key], r.status != .failed, r.firstResponse == first.responseID,
                                r.secondResponse == second.responseID
                            {
                                skipped += 1
                                continue
                            }
                            looks.append(
                                Look(item: item, question: ta.prompt, first: first, second: second, judge: judge))
                        }
                    }
                }
            }
        }
        return (looks, skipped)
    }

    /// Asks for every missing look of `benchmark` between `models` (two or more) and stores each;
    /// `limit` judges only the first items (by key).
    public func run(
        benchmark: String, models: [String], limit: Int? = nil,
        progress: @escaping @Sendable (Event) -> Void = { _ in }
    ) async throws -> Summary {
        let (looks, skipped) = try plan(benchmark: benchmark, models: models, limit: limit)
        var summary = Summary(skipped: skipped)
        progress(.started(count: looks.count, skipped: skipped))
        var done = 0
        try await withThrowingTaskGroup(of: ConsensusVoteRecord.self) { group in
            var pending = looks.makeIterator()
            for _ in 0..<concurrency {
                guard let look = pending.next() else { break }
                group.addTask { try await self.ask(look, benchmark: benchmark) }
            }
            while let record = try await group.next() {
                try store.putConsensusVote(record)
                done += 1
                switch record.status {
                case .voted: summary.voted += 1
                case .unparsed: summary.unparsed += 1
                case .failed: summary.failed += 1
                }
                if record.status != .voted, let why = record.detail?.split(separator: "\n").first {
                    summary.reasons[String(why), default: 0] += 1
                }
                progress(.looked(record, done: done, total: looks.count))
                if let look = pending.next() { group.addTask { try await self.ask(look, benchmark: benchmark) } }
            }
        }
        return summary
    }

    /// Asks one judge for one look, retrying what may pass on a second try.
    func ask(_ look: Look, benchmark: String) async throws -> ConsensusVoteRecord {
        let judge = judges[look.judge]
        var record = ConsensusVoteRecord(
            benchmark: benchmark, item: look.item, judge: judge.name, first: look.first.model,
            second: look.second.model, verdict: nil, status: .failed, firstResponse: look.first.responseID,
            secondResponse: look.second.responseID)
        let prompt = judge.prompt.render(
            question: look.question, first: look.first.response, second: look.second.response)
        for attempt in 0...retries {
            try Task.checkCancellation()
            do {
                let reply = try await judge.backend.complete(prompt: prompt)
                switch PairwisePrompt.verdict(in: reply) {
                case .success(let verdict):
                    record.verdict = verdict
                    record.status = .voted
                case .failure(let problem):
                    record.status = .unparsed
                    record.detail = problem.message + "\n" + JudgePass.kept(reply)
                }
                return record
            } catch let error as JudgeError {
                record.detail = "\(error.message) (after \(attempt + 1) attempt\(attempt == 0 ? "" : "s"))"
                guard error.retryable, attempt < retries else { break }
                try await Task.sleep(nanoseconds: UInt64(backoff * pow(2, Double(attempt)) * 1e9))
            }
        }
        return record
    }
}
