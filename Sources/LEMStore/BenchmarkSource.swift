import Foundation
import GRDB
import LEMCore

/// Turns a `--benchmark` argument into a stored benchmark name, importing a question or seed file
/// when one is named.
public enum BenchmarkSource {
    /// The benchmarks the LEM scripts run, by their stored names.
    public static let known = ["gsm8k", "truthfulqa", "do_not_answer", "toxigen", LEMImporter.seedsBenchmark]

    /// Resolves `argument`: an existing file is imported (questions JSONL or a seeds array) and
    /// its benchmark name returned; `seeds` is imported from `seedsDirectory` when the store has
    /// none; any other name must already have items in the store.
    public static func resolve(
        _ argument: String, store: ResultStore, seedsDirectory: URL?, importing: Bool = true
    ) throws -> String {
        let url = URL(fileURLWithPath: (argument as NSString).expandingTildeInPath)
        var isDir: ObjCBool = false
        if argument.contains("/") || argument.hasSuffix(".json") || argument.hasSuffix(".jsonl") {
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), !isDir.boolValue else {
                throw LocatedError(argument, "no such benchmark file")
            }
            return try importFile(url, store: store, importing: importing)
        }
        if try store.itemCount(benchmark: argument) > 0 { return argument }
        if argument == LEMImporter.seedsBenchmark, !importing { return argument }
        if argument == LEMImporter.seedsBenchmark, let seedsDirectory {
            _ = try LEMImporter(store: store).importPaths([seedsDirectory])
            if try store.itemCount(benchmark: argument) > 0 { return argument }
        }
        let hint =
            known.contains(argument)
            ? "import its questions first: lem bench import ../shared/lem/benchmarks/\(argument).jsonl"
            : "not a known benchmark (\(known.joined(separator: ", "))) nor a file"
        throw LocatedError("benchmark `\(argument)`", "has no items in \(store.url.path); \(hint)")
    }

    /// Imports one question or seed file and returns the benchmark its items were stored under
    /// (with `importing` false, only the name: nothing is written).
    static func importFile(_ url: URL, store: ResultStore, importing: Bool = true) throws -> String {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw LocatedError(url.path, "cannot read: \(error.localizedDescription)")
        }
        switch try LEMImporter.classify(url, data) {
        case .failure(let reason): throw LocatedError(url.path, reason.message)
        case .success(.seeds):
            if importing { _ = try LEMImporter(store: store).importPaths([url]) }
            return LEMImporter.seedsBenchmark
        case .success(.questions):
            if importing { _ = try LEMImporter(store: store).importPaths([url]) }
            let first = try LEMImporter.lines(url, data).first?.1
            return first?["benchmark"]?.string ?? url.deletingPathExtension().lastPathComponent
        case .success:
            throw LocatedError(url.path, "holds results or scores, not benchmark questions; use `lem bench import`")
        }
    }
}
