import Foundation
import LEMScoring
import LEMStore

/// Runs text scorers over stored responses and writes their scores.
public enum ScoringPass {
    /// Scores every stored response of the selected benchmarks and models (all when empty), one
    /// transaction per response so a killed pass keeps what it finished. Returns scores written.
    public static func run(_ scorers: [any TextScorer], store: ResultStore, benchmarks: [String] = [],
                           models: [String] = [], progress: (Int, Int) -> Void = { _, _ in }) throws -> Int {
        let targets = try store.responses(benchmarks: benchmarks, models: models)
        var written = 0
        for (i, t) in targets.enumerated() {
            written += try store.score(
                t.responseID, with: scorers, input: ScoringInput(prompt: t.prompt, response: t.response, reference: t.reference))
            progress(i + 1, targets.count)
        }
        return written
    }
}

