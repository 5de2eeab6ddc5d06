import ArgumentParser
import Foundation
import LEMApp
import LEMCore
import LEMEval
import LEMScoring
import LEMStore

/// `lem bench consensus`: Matrix-8 consensus. With `--judges`, the judges compare each pair of
/// the models' stored answers in both orders and every vote is stored (resumable); then, or with
/// `--votes FILE.jsonl`, the statistics are printed (docs/SCORING.md).
struct BenchConsensusCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "consensus",
        abstract: "Pairwise judging by several judges and its consensus statistics (Bradley–Terry, unanimity, κ).",
        discussion: """
            lem bench consensus --votes votes.jsonl [--format json]
            lem bench consensus --db D --benchmark seeds --models base,lek --judges judges.yaml
            Without --judges, --db/--benchmark/--models analyse the votes already stored.
            """)

    @Option(help: "A votes file to analyse: one JSON object per line {item, judge, first, second, winner}.")
    var votes: String?

    @OptionGroup var database: DatabaseOption

    @Option(help: "The models compared, comma-separated (two or more, with stored answers to --benchmark).")
    var models: String?

    @Option(help: "The benchmark whose items are judged.")
    var benchmark: String?

    @Option(help: "The judges file (YAML or JSON; see docs/SCORING.md). Without it, stored votes are analysed.")
    var judges: String?

    @Option(help: "Judge only the first N items (by key) that the models answered.")
    var limit: Int?

    @Option(help: "Judge requests in flight at once (local judges take one at a time).")
    var concurrency: Int = 4

    @Option(help: "Retries after a timeout, connection error, HTTP 429 or 5xx.")
    var retries: Int = 3

    @Option(help: "text or json.")
    var format: String = "text"

    @Option(name: .customLong("export-votes"), help: "Also write the stored votes to this JSONL file.")
    var exportVotes: String?

    /// The judge count Matrix-8 is named after; another count is allowed, with a note.
    static let matrixJudges = 8

    func run(in context: AppContext) async throws {
        guard format == "text" || format == "json" else {
            throw ValidationError("--format must be text or json (got \(format))")
        }
        if let votes {
            guard judges == nil, models == nil, benchmark == nil, exportVotes == nil, limit == nil else {
                throw ValidationError(
                    "--votes analyses a file: leave out --judges, --models, --benchmark, --limit, --export-votes")
            }
            report(ConsensusAnalysis(votes: try ConsensusVote.read(context.paths.resolve(votes))))
            return
        }
        guard let benchmark else { throw ValidationError("give --votes FILE, or --benchmark with --models") }
        let names = (models ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        guard names.count >= 2, Set(names).count == names.count else {
            throw ValidationError("--models needs two or more different model names, comma-separated")
        }
        let store = try database.open(in: context)
        var failed = 0
        if let judges {
            failed = try await judge(store: store, benchmark: benchmark, models: names, file: judges, context: context)
        }
        let records = try store.consensusVotes(benchmark: benchmark, models: names)
        let votes = records.compactMap(\.vote)
        if let exportVotes {
            let text = votes.map { $0.jsonLine + "\n" }.joined()
            try Data(text.utf8).write(to: context.paths.resolve(exportVotes), options: .atomic)
        }
        guard !votes.isEmpty else {
            throw CommandFailure(
                description: "no votes stored for \(benchmark) between \(names.joined(separator: ", "))"
                    + (judges == nil ? " (run with --judges FILE to judge)" : ""))
        }
        report(ConsensusAnalysis(votes: votes))
        if failed > 0 {
            throw CommandFailure(
                description: "\(failed) judge calls failed (stored as failed, not votes); run the same command "
                    + "again to ask them again")
        }
    }

    /// Runs the judges over the stored answers; returns how many calls failed.
    func judge(store: ResultStore, benchmark: String, models: [String], file: String, context: AppContext)
        async throws -> Int
    {
        let specs = try ConsensusJudgeSpec.load(context.paths.resolve(file))
        if specs.count != Self.matrixJudges {
            printError("note: \(specs.count) judges (Matrix-\(Self.matrixJudges) uses \(Self.matrixJudges))")
        }
        printError("loading \(specs.count) judges…")
        let judges = try context.consensusJudges(specs)
        for caveat in Set(judges.compactMap { $0.backend.caveat }) { printError("warning: \(caveat)") }
        let local = specs.contains {
            if case .local = $0.source { return true }
            return false
        }
        let pass = ConsensusPass(
            store: store, judges: judges, concurrency: local ? 1 : concurrency, retries: retries)
        let summary = try await pass.run(benchmark: benchmark, models: models, limit: limit) { event in
            switch event {
            case .started(let count, let skipped):
                printError("judging: \(count) looks to ask (\(skipped) already stored)")
            case .looked(let r, let done, let total):
                if r.status != .voted || done % 20 == 0 || done == total {
                    let what = r.status == .voted ? "\(r.vote?.winner ?? "tie")" : r.status.rawValue
                    let why = r.status == .voted ? "" : " (\(r.detail?.split(separator: "\n").first ?? ""))"
                    printError("[\(done)/\(total)] \(r.item) \(r.judge) \(r.first) vs \(r.second): \(what)\(why)")
                }
            }
        }
        printError("consensus: \(summary)")
        return summary.failed
    }

    func report(_ analysis: ConsensusAnalysis) {
        if format == "json" {
            for note in analysis.notes { printError("note: " + note) }
            print(analysis.json.jsonText(sortedKeys: false, pretty: true))
        } else {
            print(analysis.text, terminator: "")
        }
    }
}
