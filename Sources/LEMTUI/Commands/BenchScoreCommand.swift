import ArgumentParser
import Foundation
import LEMScoring
import LEMStore

/// `lem bench score`: runs the text scorers over stored responses (judges: `--judge-url`).
struct BenchScoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score", abstract: "Score stored responses with the text scorers or an LLM judge.")

    @OptionGroup var database: DatabaseOption

    @Option(name: .customLong("scorer"),
            help: "gsm8k, lek-heuristic, patterns, grammar, authority, judge (repeatable; default gsm8k).")
    var scorers: [String] = []

    @Option(name: .customLong("benchmark"), help: "Benchmarks to score (repeatable; default all).")
    var benchmarks: [String] = []

    @Option(name: .customLong("model"), help: "Models to score (repeatable; default all).")
    var models: [String] = []

    @Option(help: "JSON file overriding the built-in phrase patterns (see docs/SCORING.md).")
    var patterns: String?

    func run() async throws {
        let store = try database.open()
        let names = scorers.isEmpty ? ["gsm8k"] : scorers
        var textScorers: [any TextScorer] = []
        for name in names {
            switch name {
            case "gsm8k": textScorers += GSM8KScorer.Rule.allCases.map { GSM8KScorer(rule: $0) }
            case "lek-heuristic": textScorers.append(LEKHeuristic())
            case "patterns":
                let set = try PatternSet.load(overrides: patterns.map { URL(fileURLWithPath: $0) })
                textScorers.append(PatternScorer(patterns: set))
            case "grammar": textScorers.append(GrammarDifferential())
            case "authority": textScorers.append(AuthorityDetector())
            case "judge": continue
            default: throw ValidationError("unknown scorer `\(name)`")
            }
        }
        let gsmOnly = textScorers.allSatisfy { $0 is GSM8KScorer }
        let written = try ScoringPass.run(
            textScorers, store: store, benchmarks: gsmOnly && benchmarks.isEmpty ? ["gsm8k"] : benchmarks, models: models)
        print("wrote \(written) scores")
        if names.contains("gsm8k") {
            let gap = try GSM8KGap.build(store: store)
            print(gap.render())
        }
    }
}
