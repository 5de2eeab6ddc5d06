import Foundation
import LEMCore
import LEMScoring
import LEMStore

/// Distillation data: a teacher answers prompts (with the kernel, as the research's teachers do)
/// and the student's training set holds the **bare** prompt and the teacher's answer.
///
/// The answers are ordinary benchmark runs in the results store: each prompts file is stored as a
/// benchmark named after its content (`distill:<stem>:<sha256 prefix>`), and each of the `samples`
/// answers per prompt is a run with seed `seed + k`. A run with the same teacher, kernel, sampling
/// and file is resumed, so an interrupted distillation keeps its answers and a finished one is
/// not asked again. `examples` reads the answers back, applies the score threshold and
/// `split` divides them deterministically for the seed.
public struct Distillation: Sendable {
    /// A minimum score an answer must reach to be kept: `scorer` (a `ScoringPass` name), an
    /// optional dimension (default: the scorer's first), and the threshold.
    public struct Threshold: Sendable, Equatable {
        public var scorer: String
        public var dimension: String?
        public var minimum: Double

        /// Parses `SCORER[.DIMENSION]:X`, e.g. `lek-heuristic:2` or `authority.score:0.5`.
        public init(parsing text: String) throws {
            guard let colon = text.lastIndex(of: ":"), let minimum = Double(text[text.index(after: colon)...]),
                minimum.isFinite
            else {
                throw LocatedError("--min-score \(text)", "expected SCORER[.DIMENSION]:NUMBER, e.g. lek-heuristic:2")
            }
            let name = text[..<colon]
            let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
            guard let scorer = parts.first, ScoringPass.scorerNames.contains(scorer) else {
                throw LocatedError(
                    "--min-score \(text)", "unknown scorer (known: \(ScoringPass.scorerNames.joined(separator: ", ")))")
            }
            self.scorer = scorer
            self.dimension = parts.count > 1 ? parts[1] : nil
            self.minimum = minimum
        }
    }

    /// One kept training example.
    public struct Example: Sendable, Equatable {
        /// The item's key in the store.
        public var key: String
        /// Which of the samples (0-based) answered it.
        public var sample: Int
        /// The bare prompt (no kernel).
        public var prompt: String
        public var answer: String
        /// The threshold scorer's value, when there is a threshold.
        public var score: Double?

        /// The mlx_lm chat line: the bare prompt as the user turn, the answer as the assistant's.
        public var chatLine: String { SandwichData.chatLine([.user(prompt), .assistant(answer)]) }
    }

    /// What `examples` found.
    public struct Selection: Sendable, Equatable {
        public var kept: [Example] = []
        /// Answers below the threshold (or without a score on its dimension).
        public var rejected = 0
        /// Empty answers, never kept.
        public var empty = 0
    }

    /// The teacher's runs: model, kernel mode and kernel, new tokens, remote engine and concurrency;
    /// `benchmark` and `seed` are set per run.
    public var teacher: BenchRunPlan
    /// Answers per prompt (each a run with its own seed).
    public var samples: Int
    /// The first sample's seed; sample k uses `seed + k`.
    public var seed: UInt64
    public var threshold: Threshold?
    /// The share of examples held out for `valid.jsonl`.
    public var validFraction: Double

    /// A distillation with `teacher` (its benchmark and seed are replaced per run).
    public init(
        teacher: BenchRunPlan, samples: Int = 1, seed: UInt64 = 0, threshold: Threshold? = nil,
        validFraction: Double = 0.1
    ) {
        self.teacher = teacher
        self.samples = samples
        self.seed = seed
        self.threshold = threshold
        self.validFraction = validFraction
    }

    /// Checks the settings before anything is loaded or asked.
    public func validate() throws {
        guard samples >= 1 else { throw LocatedError("--samples", "must be at least 1") }
        guard validFraction >= 0, validFraction < 1 else { throw LocatedError("--valid-fraction", "must be in [0, 1)") }
        try teacher.validate()
    }

    /// Stores the prompts of `file` (seeds JSON, JSONL, chat lines or text lines) as a benchmark
    /// named after the file's stem and content, and returns that name. Keys keep the file's order
    /// (`00001-<id>`), so runs answer the prompts as the file lists them.
    public static func register(file: URL, store: ResultStore) throws -> String {
        let prompts = try ProbePrompt.load(file: file)
        let digest = SHA256.hex((try? Data(contentsOf: file)) ?? Data())
        let name = "distill:\(file.deletingPathExtension().lastPathComponent):\(digest.prefix(12))"
        try store.write { db in
            for (i, p) in prompts.enumerated() {
                let key = String(repeating: "0", count: max(0, 5 - String(i + 1).count)) + "\(i + 1)-\(p.id)"
                try store.upsertItem(BenchItem(benchmark: name, key: key, prompt: p.prompt, domain: p.domain), in: db)
            }
        }
        return name
    }

    /// The runs that answer `benchmarks`: for each, one per sample, seeds `seed`, `seed + 1`, ….
    public func plans(benchmarks: [String]) -> [BenchRunPlan] {
        benchmarks.flatMap { benchmark in
            (0..<samples).map { k in
                var plan = teacher
                plan.benchmark = benchmark
                plan.seed = seed &+ UInt64(k)
                return plan
            }
        }
    }

    /// The kept examples of the finished runs (`plans(…)` in order with their run ids): the bare
    /// prompt and the answer, filtered by the threshold (its scores are stored with the answers).
    public func examples(runs: [(plan: BenchRunPlan, runID: Int64)], store: ResultStore) throws -> Selection {
        let scorer = try threshold.map { try ScoringPass.scorers(named: [$0.scorer]) }
        var selection = Selection()
        for (plan, runID) in runs {
            let sample = Int(plan.seed &- seed)
            for answer in try store.runAnswers(runID) {
                let prompt = BenchPrompt.userText(prompt: answer.prompt, benchmark: plan.benchmark)
                guard !answer.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                    selection.empty += 1
                    continue
                }
                var score: Double?
                if let threshold, let scorer {
                    let input = ScoringInput(prompt: prompt, response: answer.text)
                    _ = try store.score(answer.responseID, with: scorer, input: input)
                    let dimensions = scorer.flatMap { $0.score(input) }
                    let chosen =
                        threshold.dimension.map { d in dimensions.first { $0.dimension == d } } ?? dimensions.first
                    score = chosen?.value
                    guard let value = score, value >= threshold.minimum else {
                        selection.rejected += 1
                        continue
                    }
                }
                selection.kept.append(
                    Example(key: answer.itemKey, sample: sample, prompt: prompt, answer: answer.text, score: score))
            }
        }
        return selection
    }

    /// Divides `examples` into train and valid: each example's place is decided by a hash of its
    /// key, sample and the seed, so the split is the same for a seed whatever else was kept. With
    /// two or more examples and a fraction above 0, valid gets at least one; train keeps the order.
    public func split(_ examples: [Example]) -> (train: [Example], valid: [Example]) {
        guard validFraction > 0, examples.count >= 2 else { return (examples, []) }
        let count = min(examples.count - 1, max(1, Int((Double(examples.count) * validFraction).rounded())))
        let ranks = examples.map(rank)
        let ranked = examples.indices.sorted { a, b in ranks[a] == ranks[b] ? a < b : ranks[a] < ranks[b] }
        let held = Set(ranked.prefix(count))
        return (
            examples.indices.filter { !held.contains($0) }.map { examples[$0] },
            examples.indices.filter { held.contains($0) }.map { examples[$0] }
        )
    }

    /// An example's place in the split order: a hash of its key, sample and the seed (Swift's
    /// `Hasher` is seeded per process, so it would not give the same split twice).
    func rank(_ example: Example) -> String {
        SHA256.hex(Array("\(example.key)\u{0}\(example.sample)\u{0}\(seed)".utf8))
    }

    /// Writes `train.jsonl` and `valid.jsonl` (mlx_lm chat lines) into `folder`, each atomically.
    public static func write(train: [Example], valid: [Example], to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, list) in [("train.jsonl", train), ("valid.jsonl", valid)] {
            let text = list.map { $0.chatLine + "\n" }.joined()
            try Data(text.utf8).write(to: folder.appendingPathComponent(name), options: .atomic)
        }
    }
}
