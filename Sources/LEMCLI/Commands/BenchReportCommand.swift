import ArgumentParser
import Foundation
import LEMApp
import LEMStore

/// `lem bench report`: per model × benchmark dimension means and deltas against a baseline.
struct BenchReportCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Print per-model benchmark means and deltas against a baseline.")

    @OptionGroup var database: DatabaseOption

    @Option(help: "Model the deltas are measured against.")
    var baseline: String?

    @Option(help: "text, markdown, csv or json.")
    var format: String = "text"

    @Option(
        name: .customLong("scorer"),
        help: "Scorer to draw on, in order of preference (repeatable; default gsm8k-lem, judge, judge-imported).")
    var scorers: [String] = []

    @Option(name: .customLong("model"), help: "Models to include, in display order (repeatable; default all).")
    var models: [String] = []

    @Option(name: .customLong("benchmark"), help: "Benchmarks to include (repeatable; default all).")
    var benchmarks: [String] = []

    func run(in context: AppContext) async throws {
        guard let fmt = ReportFormat(rawValue: format) else {
            throw ValidationError("--format must be one of text, markdown, csv, json (got \(format))")
        }
        let store = try database.open(in: context)
        let report = try BenchReport.build(
            store: store, baseline: baseline, scorers: scorers.isEmpty ? BenchReport.defaultScorers : scorers,
            models: models, benchmarks: benchmarks)
        if let baseline, !report.models.contains(baseline) {
            throw CommandFailure(
                description: "baseline `\(baseline)` has no scores; models: \(report.models.joined(separator: ", "))")
        }
        print(report.render(fmt), terminator: "")
    }
}
