import Foundation
import LEMScoring
import LEMStore

/// Runs text scorers over stored responses and writes their scores.
///
/// A scorer scores only the benchmarks it is made for (`TextScorer.benchmarks`); the answers of
/// other benchmarks are skipped and the summary says so, scorer by scorer.
public enum ScoringPass {
    /// What a pass did.
    public struct Summary: Sendable, Equatable {
        /// Scores written.
        public var written = 0
        /// Responses scored by at least one scorer.
        public var responses = 0
        /// Per scorer, the benchmarks it was not applied to and how many answers they hold.
        public var skipped: [String: [String: Int]] = [:]

        /// One line per group of scorers that skipped the same benchmarks, e.g. `gsm8k-lem,
        /// gsm8k-lmeval-strict: GSM8K only; skipped 150 answers of do_not_answer, truthfulqa`.
        public var notes: [String] {
            var groups: [[String: Int]: [String]] = [:]
            for (scorer, benches) in skipped { groups[benches, default: []].append(scorer) }
            return groups.map { benches, scorers in
                let answers = benches.values.reduce(0, +)
                return "\(scorers.sorted().joined(separator: ", ")) score only the benchmarks they are made for: "
                    + "skipped \(answers) answers of \(benches.keys.sorted().joined(separator: ", "))"
            }.sorted()
        }
    }

    /// The scorer names a pass accepts, in the order `lem bench score --help` lists them.
    public static let scorerNames = ["gsm8k", "lek-heuristic", "patterns", "grammar", "authority"]

    /// The scorers `names` stand for (`gsm8k` is its three extraction rules); `patterns` uses
    /// `patternSet` when given. An unknown name is an error listing the known ones.
    public static func scorers(named names: [String], patternSet: PatternSet? = nil) throws -> [any TextScorer] {
        var scorers: [any TextScorer] = []
        for name in names {
            switch name {
            case "gsm8k": scorers += GSM8KScorer.Rule.allCases.map { GSM8KScorer(rule: $0) }
            case "lek-heuristic": scorers.append(LEKHeuristic())
            case "patterns": scorers.append(patternSet.map { PatternScorer(patterns: $0) } ?? PatternScorer())
            case "grammar": scorers.append(GrammarDifferential())
            case "authority": scorers.append(AuthorityDetector())
            default: throw ScoringPassError("unknown scorer \(name) (known: \(scorerNames.joined(separator: ", ")))")
            }
        }
        return scorers
    }

    /// Scores every stored response of the selected benchmarks and models (all when empty) with
    /// the scorers made for its benchmark, one transaction per response so a killed pass keeps
    /// what it finished.
    public static func run(
        _ scorers: [any TextScorer], store: ResultStore, benchmarks: [String] = [],
        models: [String] = [], progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> Summary {
        var summary = Summary()
        // Only the responses some scorer applies to are read and counted.
        let targets = try store.responses(benchmarks: benchmarks, models: models)
        let relevant = targets.filter { t in scorers.contains { $0.applies(to: t.benchmark) } }
        for t in targets {
            for s in scorers where !s.applies(to: t.benchmark) {
                summary.skipped[s.name, default: [:]][t.benchmark, default: 0] += 1
            }
        }
        for (i, t) in relevant.enumerated() {
            let applicable = scorers.filter { $0.applies(to: t.benchmark) }
            summary.written += try store.score(
                t.responseID, with: applicable,
                input: ScoringInput(prompt: t.prompt, response: t.response, reference: t.reference))
            summary.responses += 1
            progress(i + 1, relevant.count)
        }
        return summary
    }
}

/// A scoring pass that cannot start (an unknown scorer name).
public struct ScoringPassError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    /// An error saying `description`.
    public init(_ description: String) { self.description = description }
}
