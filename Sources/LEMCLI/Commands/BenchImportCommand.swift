import ArgumentParser
import Foundation
import LEMApp
import LEMStore

/// `lem bench import PATH...`: reads LEM benchmark, result, score and seed files into the store.
struct BenchImportCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import LEM benchmark questions, results/<bench>_<model>.jsonl, score files and seed files.")

    @OptionGroup var database: DatabaseOption

    @Argument(help: "Files or directories (walked recursively).")
    var paths: [String]

    func run(in context: AppContext) async throws {
        let store = try database.open(in: context)
        let summary = try LEMImporter(store: store).importPaths(paths.map { context.paths.resolve($0) })
        for s in summary.skipped { printError("skipped \(s)") }
        print(
            "imported \(summary.files.count) files: \(summary.items) items, \(summary.responses) responses, "
                + "\(summary.scores) scores → \(store.url.path)")
    }
}
