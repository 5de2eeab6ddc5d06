import ArgumentParser
import Foundation
import LEMStore

/// The bench subcommands of `lem`, registered by the root command.
enum BenchCommands {
    static let all: [any ParsableCommand.Type] = [BenchCommand.self]
}

/// `lem bench`: the headless benchmark store: import, score, report, export.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Import, score, report and export benchmark results.",
        subcommands: [BenchImportCommand.self, BenchScoreCommand.self, BenchReportCommand.self,
                      BenchExportCommand.self])
}

/// The `--db` option shared by the bench subcommands.
struct DatabaseOption: ParsableArguments {
    @Option(name: .long, help: "Results database (default ~/.local/share/lem/lem.sqlite).")
    var db: String?

    /// Opens the store, creating and migrating the file if needed.
    func open() throws -> ResultStore {
        let url = db.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) } ?? LEMStore.defaultDatabaseURL
        return try ResultStore(url: url)
    }
}


/// Turns store errors into a clean exit message instead of a stack of Swift types.
func runReportingErrors<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as StoreError {
        throw ValidationError(e.description)
    }
}
