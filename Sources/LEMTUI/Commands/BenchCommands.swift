import ArgumentParser
import Foundation
import LEMStore

/// The bench subcommands of `lem`, registered by the root command.
enum BenchCommands {
    static let all: [any ParsableCommand.Type] = [BenchCommand.self]
}

/// `lem bench`: the headless benchmark store: import, run, score, report, export.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Import, run, score, report and export benchmark results.",
        subcommands: [BenchImportCommand.self, BenchRunCommand.self, BenchScoreCommand.self, BenchReportCommand.self,
                      BenchExportCommand.self])
}

/// The `--db` option shared by the bench subcommands.
struct DatabaseOption: ParsableArguments {
    @Option(name: .long, help: "Results database (default ~/.local/share/lem/lem.sqlite).")
    var db: String?

    /// The database file: `--db`, else the default.
    var url: URL {
        db.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) } ?? LEMStore.defaultDatabaseURL
    }

    /// Opens the store, creating and migrating the file if needed.
    func open() throws -> ResultStore {
        try ResultStore(url: url)
    }
}

/// A failure worth one clear line (no usage text): ArgumentParser prints `Error: <description>`.
struct CommandFailure: Error, CustomStringConvertible {
    /// The message shown.
    var description: String
}
