import ArgumentParser
import Foundation
import LEMApp
import LEMCore
import LEMEngine
import LEMEval
import LEMScoring
import LEMStore

/// `lem bench score`: runs the text scorers over stored responses; the LLM judge runs on an
/// OpenAI-compatible endpoint (`--judge-url`) or on the local engine (`--judge-model PATH`).
struct BenchScoreCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "score", abstract: "Score stored responses with the text scorers or an LLM judge.")

    @OptionGroup var database: DatabaseOption

    @Option(
        name: .customLong("scorer"),
        help: "gsm8k, lek-heuristic, patterns, grammar, authority, judge (repeatable; default gsm8k).")
    var scorers: [String] = []

    @Option(name: .customLong("benchmark"), help: "Benchmarks to score (repeatable; default all).")
    var benchmarks: [String] = []

    @Option(name: .customLong("model"), help: "Models to score (repeatable; default all).")
    var models: [String] = []

    @Option(help: "JSON file overriding the built-in phrase patterns (see docs/SCORING.md).")
    var patterns: String?

    @Option(
        name: .customLong("judge-url"), help: "OpenAI-compatible API root for the judge, e.g. http://127.0.0.1:8080/v1."
    )
    var judgeURL: String?

    @Option(
        name: .customLong("judge-model"),
        help:
            "With --judge-url: the model name sent (default judge). Alone: a .gguf/model folder judged on the local engine."
    )
    var judgeModel: String?

    @Option(name: .customLong("judge-max-tokens"), help: "Most tokens per local judge verdict.")
    var judgeMaxTokens: Int = 384

    @Option(name: .customLong("judge-key-env"), help: "Environment variable holding the judge API key (never logged).")
    var judgeKeyEnv: String = "LEM_JUDGE_API_KEY"

    @Option(help: "Judge request timeout in seconds.")
    var timeout: Double = 60

    @Option(help: "Retries after a timeout, connection error, HTTP 429 or 5xx.")
    var retries: Int = 3

    @Option(help: "Judge requests in flight at once.")
    var concurrency: Int = 4

    @Option(help: "Directory of rubric JSON files (default: the built-in rubrics, as in kernel/rubrics).")
    var rubrics: String?

    @Flag(help: "Judge responses again even if they already have a verdict.")
    var rescore = false

    func run(in context: AppContext) async throws {
        let store = try database.open(in: context)
        let names = scorers.isEmpty ? ["gsm8k"] : scorers
        let textNames = names.filter { $0 != "judge" }
        let patternSet =
            textNames.contains("patterns")
            ? try PatternSet.load(overrides: patterns.map { context.paths.resolve($0) }) : nil
        let textScorers: [any TextScorer]
        do {
            textScorers = try ScoringPass.scorers(named: textNames, patternSet: patternSet)
        } catch let error as ScoringPassError {
            throw ValidationError(error.description)
        }
        if !textScorers.isEmpty {
            // Each scorer scores only the benchmarks it is made for (GSM8K's rules: gsm8k).
            let summary = try ScoringPass.run(textScorers, store: store, benchmarks: benchmarks, models: models)
            for note in summary.notes { printError("note: " + note) }
            print("wrote \(summary.written) scores for \(summary.responses) answers")
        }
        if names.contains("judge") { try await runJudge(store, context: context) }
        if names.contains("gsm8k") {
            let gap = try GSM8KGap.build(store: store)
            print(gap.render())
        }
    }

    /// The judge backend: HTTP with `--judge-url`, else the local engine with `--judge-model PATH`.
    func judgeBackend(context: AppContext) throws -> (any JudgeBackend, concurrency: Int) {
        if let judgeURL {
            guard let url = URL(string: judgeURL), url.scheme == "http" || url.scheme == "https" else {
                throw ValidationError("--judge-url must be http(s)://host:port/v1 (got \(judgeURL))")
            }
            return (
                HTTPJudgeBackend(
                    baseURL: url, model: judgeModel ?? "judge", apiKey: context.variable(judgeKeyEnv),
                    timeout: timeout), concurrency
            )
        }
        guard let judgeModel else {
            throw ValidationError("--scorer judge needs --judge-url http(s)://host:port/v1 or --judge-model PATH")
        }
        let url = try context.resolveModel(judgeModel)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ValidationError("--judge-model \(judgeModel): no such model file or folder")
        }
        printError("loading judge \(url.path)…")
        // The engine decodes up to its batch of verdicts together.
        let loaded = try context.load(ModelKey(model: url))
        return (
            LocalJudgeBackend(model: loaded, sampling: SamplingSettings(maxTokens: judgeMaxTokens)),
            loaded.generator.maxBatch
        )
    }

    func runJudge(_ store: ResultStore, context: AppContext) async throws {
        let rubricSet =
            try rubrics.map { try JudgeRubric.load(directory: context.paths.resolve($0)) } ?? JudgeRubric.builtIn
        let (backend, width) = try judgeBackend(context: context)
        let pass = JudgePass(
            store: store, backend: backend, rubrics: rubricSet,
            settings: .init(concurrency: width, retries: retries, rescore: rescore))
        if let caveat = backend.caveat { printError("warning: \(caveat)") }
        let summary = try await pass.run(benchmarks: benchmarks, models: models) { event in
            switch event {
            case .started(let count): printError("judging \(count) responses with \(backend.identity)")
            case .judged(let model, let bench, let item, let status, let reason, let done, let total):
                if status != .scored || done % 10 == 0 || done == total {
                    printError(
                        "[\(done)/\(total)] \(bench) \(model) \(item): \(status.rawValue)"
                            + (reason.map { " (\($0))" } ?? ""))
                }
            }
        }
        print("judge: \(summary)")
        if summary.unscored > 0, let caveat = backend.caveat { printError("warning: \(caveat)") }
        if summary.failed > 0 {
            // Failed verdicts are stored as failed (never as a number) and retried by the next pass;
            // the exit status says the pass did not finish its work.
            throw CommandFailure(
                description: "\(summary.failed) of \(summary.scored + summary.unscored + summary.failed) "
                    + "responses ended failed (see the [n/total] lines above for why); run the same "
                    + "command again to retry them")
        }
    }
}
