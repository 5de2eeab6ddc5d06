import ArgumentParser
import Foundation
import LEMApp
import LEMStore

/// `lem bench export`: writes stored responses and scores back out.
struct BenchExportCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract:
            "Export responses (results/<bench>_<model>.jsonl) and scores (standard_scores.json shape, csv, markdown).")

    @OptionGroup var database: DatabaseOption

    @Option(help: "lem (results/*.jsonl + standard_scores.json), csv or markdown.")
    var format: String = "lem"

    @Option(help: "Output directory.")
    var out: String

    @Option(name: .customLong("scorer"), help: "Scorers to export (repeatable; default the report's).")
    var scorers: [String] = []

    func run(in context: AppContext) async throws {
        guard let fmt = BenchExporter.Format(rawValue: format) else {
            throw ValidationError("--format must be one of lem, csv, markdown (got \(format))")
        }
        let store = try database.open(in: context)
        let written = try BenchExporter(store: store).export(
            format: fmt, to: context.paths.resolve(out), scorers: scorers.isEmpty ? BenchReport.defaultScorers : scorers
        )
        for f in written { print(f.path) }
    }
}
