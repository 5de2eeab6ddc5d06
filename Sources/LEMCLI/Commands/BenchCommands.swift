import ArgumentParser

/// `lem bench`: the headless benchmark store: import, run, score, report, export.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Import, run, score, report and export benchmark results.",
        subcommands: [
            BenchImportCommand.self, BenchRunCommand.self, BenchScoreCommand.self, BenchReportCommand.self,
            BenchExportCommand.self, BenchExportBatchCommand.self, BenchImportBatchCommand.self,
            BenchConsensusCommand.self
        ])
}
