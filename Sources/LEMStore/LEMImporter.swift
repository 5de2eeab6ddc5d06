import Foundation
import GRDB
import LEMCore
import LEMScoring

/// Imports the LEM repository's files into a `ResultStore`.
///
/// Recognised by content, not name: benchmark question files (JSONL of `{id, question|prompt, …}`),
/// result files (JSONL of `{id, benchmark, model, prompt, response, elapsed_seconds}`), score
/// files (`{"scores": {bench: {model: {id: {...}}}}}`) and seed files (`[{id, domain, prompt}]`).
/// Training files (`{"messages": …}`) and non-JSON files met while walking a directory are
/// skipped. Each file is imported in one transaction: a bad line rolls back that file only,
/// and the error names the file and line.
public struct LEMImporter: Sendable {
    /// The store written to.
    public let store: ResultStore

    /// Creates an importer writing to `store`.
    public init(store: ResultStore) { self.store = store }

    /// What an import did.
    public struct Summary: Sendable, Equatable {
        /// Items (questions, probes) inserted or updated.
        public var items = 0
        /// Responses inserted or updated.
        public var responses = 0
        /// Scores inserted or updated (including GSM8K scores computed on import).
        public var scores = 0
        /// Files imported.
        public var files: [String] = []
        /// Files skipped, with the reason.
        public var skipped: [String] = []
    }

    enum Kind: Int, Comparable {
        case questions = 0, seeds, results, scores
        static func < (a: Kind, b: Kind) -> Bool { a.rawValue < b.rawValue }
    }

    /// Imports files and directories (walked recursively), questions and seeds first, then
    /// results, then scores, so that later files can refer to earlier ones.
    public func importPaths(_ paths: [URL]) throws -> Summary {
        var summary = Summary()
        var files: [(URL, Kind, Data)] = []
        for path in paths {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path.path, isDirectory: &isDir) else {
                throw LocatedError(path.path, "no such file or directory")
            }
            let candidates = isDir.boolValue ? Self.walk(path) : [path]
            for file in candidates {
                let data: Data
                do { data = try Data(contentsOf: file) } catch {
                    throw LocatedError(file.path, "cannot read: \(error.localizedDescription)")
                }
                switch try Self.classify(file, data) {
                case .success(let kind): files.append((file, kind, data))
                case .failure(let reason):
                    if isDir.boolValue {
                        summary.skipped.append("\(file.path): \(reason.message)")
                    } else {
                        throw LocatedError(file.path, reason.message)
                    }
                }
            }
        }
        files.sort { ($0.1, $0.0.path) < ($1.1, $1.0.path) }
        // Register models in the order a score file lists them, so reports follow that order.
        for (file, kind, data) in files where kind == .scores {
            let names = Self.modelKeysInTextOrder(data)
            try store.write { db in
                for name in names { _ = try store.modelID(named: name, in: db) }
            }
            _ = file
        }
        for (file, kind, data) in files {
            switch kind {
            case .questions: summary.items += try importQuestions(file, data)
            case .seeds: summary.items += try importSeeds(file, data)
            case .results:
                let (r, s) = try importResults(file, data)
                summary.responses += r
                summary.scores += s
            case .scores: summary.scores += try importScores(file, data)
            }
            summary.files.append(file.path)
        }
        return summary
    }

    static func walk(_ dir: URL) -> [URL] {
        guard let e = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil) else { return [] }
        var out: [URL] = []
        for case let url as URL in e {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), !isDir.boolValue {
                out.append(url)
            }
        }
        return out.sorted { $0.path < $1.path }
    }

    struct Reason: Error { var message: String }

    static func classify(_ file: URL, _ data: Data) throws -> Result<Kind, Reason> {
        switch file.pathExtension {
        case "jsonl":
            let text = String(decoding: data, as: UTF8.self)
            guard let line = text.split(separator: "\n").first(where: { !$0.allSatisfy(\.isWhitespace) }) else {
                return .failure(Reason(message: "empty file"))
            }
            guard let first = try? JSONValue.parse(Data(line.utf8)), let o = first.object else {
                throw LocatedError(file: file.path, line: 1, "not a JSON object")
            }
            if o["messages"] != nil { return .failure(Reason(message: "training data, not a benchmark file")) }
            if o["response"] != nil { return .success(.results) }
            if o["id"] != nil, o["question"] != nil || o["prompt"] != nil { return .success(.questions) }
            return .failure(Reason(message: "JSONL lines have neither `response` nor `question`/`prompt`"))
        case "json":
            let value: JSONValue
            do { value = try JSONValue.parse(data) } catch {
                throw LocatedError(file.path, "not valid JSON (\(Self.describe(error)))")
            }
            if value.object?["scores"] != nil { return .success(.scores) }
            if value.array != nil { return .success(.seeds) }
            return .failure(Reason(message: "expected a seeds array or an object with a `scores` key"))
        default:
            return .failure(Reason(message: "not a .json or .jsonl file"))
        }
    }

    static func describe(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let c) = error {
            if let u = c.underlyingError as NSError? { return u.localizedDescription }
            return c.debugDescription
        }
        return "\(error)"
    }

    /// The non-empty lines of a JSONL file, parsed, with 1-based line numbers.
    static func lines(_ file: URL, _ data: Data) throws -> [(Int, JSONObject)] {
        var out: [(Int, JSONObject)] = []
        let text = String(decoding: data, as: UTF8.self)
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.allSatisfy(\.isWhitespace) { continue }
            let value: JSONValue
            do { value = try JSONValue.parse(Data(line.utf8)) } catch {
                throw LocatedError(file: file.path, line: i + 1, "not valid JSON (\(describe(error)))")
            }
            guard let o = value.object else {
                throw LocatedError(file: file.path, line: i + 1, "expected a JSON object, found \(value.kind)")
            }
            out.append((i + 1, o))
        }
        return out
    }

    static func field(_ o: JSONObject, _ names: [String], _ file: URL, _ line: Int) throws -> String {
        for n in names {
            if let v = o[n] {
                guard let s = v.string else {
                    throw LocatedError(file: file.path, line: line, "field `\(n)` should be a string, found \(v.kind)")
                }
                return s
            }
        }
        let list = names.map { "`\($0)`" }.joined(separator: " or ")
        throw LocatedError(file: file.path, line: line, "missing string field \(list)")
    }

    static func referenceFields(_ o: JSONObject, excluding: Set<String>) -> [String: String] {
        var r: [String: String] = [:]
        for (k, v) in o where !excluding.contains(k) { r[k] = v.text }
        return r
    }

    func importQuestions(_ file: URL, _ data: Data) throws -> Int {
        let rows = try Self.lines(file, data)
        let stem = file.deletingPathExtension().lastPathComponent
        return try store.write { db in
            var seen: [String: Int] = [:]
            for (line, o) in rows {
                let key = try Self.field(o, ["id"], file, line)
                if let first = seen[key] {
                    throw LocatedError(
                        file: file.path, line: line, "duplicate item id `\(key)` (first at line \(first))")
                }
                seen[key] = line
                let bench = o["benchmark"]?.string ?? stem
                let prompt = try Self.field(o, ["question", "prompt"], file, line)
                let domain = o["domain"]?.string ?? o["category"]?.string
                try store.upsertItem(
                    BenchItem(
                        benchmark: bench, key: key, prompt: prompt, domain: domain,
                        reference: Self.referenceFields(o, excluding: ["id", "benchmark", "question", "prompt"])),
                    in: db)
            }
            return rows.count
        }
    }

    /// The benchmark name under which seed files are stored.
    public static let seedsBenchmark = "seeds"

    func importSeeds(_ file: URL, _ data: Data) throws -> Int {
        guard let array = try JSONValue.parse(data).array else { throw LocatedError(file.path, "expected an array") }
        return try store.write { db in
            var seen: Set<String> = []
            for (i, v) in array.enumerated() {
                let at = "\(file.path): element \(i)"
                guard let o = v.object else { throw LocatedError(at, "expected an object {id, domain, prompt}") }
                guard let key = o["id"]?.string, let prompt = o["prompt"]?.string else {
                    throw LocatedError(at, "expected string fields `id` and `prompt`")
                }
                guard seen.insert(key).inserted else { throw LocatedError(at, "duplicate probe id `\(key)`") }
                try store.upsertItem(
                    BenchItem(
                        benchmark: Self.seedsBenchmark, key: key, prompt: prompt, domain: o["domain"]?.string,
                        reference: Self.referenceFields(o, excluding: ["id", "prompt"])),
                    in: db)
            }
            return array.count
        }
    }

    func importResults(_ file: URL, _ data: Data) throws -> (Int, Int) {
        let rows = try Self.lines(file, data)
        let stem = file.deletingPathExtension().lastPathComponent
        return try store.write { db in
            let known = try String.fetchAll(db, sql: "SELECT DISTINCT benchmark FROM item")
            // `<bench>_<model>`: the longest known benchmark name that prefixes the stem.
            let fileBench = known.filter { stem.hasPrefix($0 + "_") }.max { $0.count < $1.count }
            let fileModel = fileBench.map { String(stem.dropFirst($0.count + 1)) }
            var runs: [String: Int64] = [:]
            var seen: [String: Int] = [:]
            var scores = 0
            for (line, o) in rows {
                let key = try Self.field(o, ["id"], file, line)
                guard let bench = o["benchmark"]?.string ?? fileBench else {
                    throw LocatedError(
                        file: file.path, line: line,
                        "no `benchmark` field and the file name does not start with a known benchmark")
                }
                guard let model = o["model"]?.string ?? fileModel else {
                    throw LocatedError(file: file.path, line: line, "missing string field `model`")
                }
                if let fileModel, fileBench == bench, model != fileModel {
                    throw LocatedError(
                        file: file.path, line: line,
                        "unknown model key `\(model)`: the file name says `\(fileModel)`")
                }
                let dupKey = "\(bench)/\(model)/\(key)"
                if let first = seen[dupKey] {
                    throw LocatedError(
                        file: file.path, line: line, "duplicate item id `\(key)` (first at line \(first))")
                }
                seen[dupKey] = line
                let response = try Self.field(o, ["response"], file, line)
                let prompt = o["prompt"]?.string
                var itemID = try Int64.fetchOne(
                    db, sql: "SELECT id FROM item WHERE benchmark = ? AND key = ?", arguments: [bench, key])
                if itemID == nil {
                    guard let prompt else {
                        throw LocatedError(
                            file: file.path, line: line,
                            "unknown item `\(key)` in benchmark `\(bench)` and no `prompt` field")
                    }
                    itemID = try store.upsertItem(BenchItem(benchmark: bench, key: key, prompt: prompt), in: db)
                }
                let runKey = "\(bench)/\(model)"
                if runs[runKey] == nil {
                    runs[runKey] = try importRun(
                        model: model, benchmark: bench, origin: "import:\(file.lastPathComponent)", db)
                }
                let seconds = o["elapsed_seconds"]?.double ?? o["seconds"]?.double
                let tokens = o["tokens"]?.double.map { Int($0) }
                try db.execute(
                    sql: """
                        INSERT INTO response (run_id, item_id, text, tokens, seconds, created_at) VALUES (?, ?, ?, ?, ?, ?)
                        ON CONFLICT (run_id, item_id) DO UPDATE SET text = excluded.text, tokens = excluded.tokens,
                            seconds = excluded.seconds
                        """,
                    arguments: [runs[runKey]!, itemID!, response, tokens, seconds, Date().timeIntervalSince1970])
                if bench == "gsm8k" {
                    let responseID = try Int64.fetchOne(
                        db, sql: "SELECT id FROM response WHERE run_id = ? AND item_id = ?",
                        arguments: [runs[runKey]!, itemID!])!
                    let reference = BenchItem.decodeReference(
                        try String.fetchOne(db, sql: "SELECT reference FROM item WHERE id = ?", arguments: [itemID!])
                            ?? "{}")
                    let input = ScoringInput(prompt: prompt ?? "", response: response, reference: reference)
                    scores += try store.applyScorers(
                        GSM8KScorer.Rule.allCases.map { GSM8KScorer(rule: $0) }, to: input, responseID: responseID,
                        in: db)
                }
            }
            for run in runs.values {
                try db.execute(
                    sql: "UPDATE run SET status = 'complete', finished_at = ? WHERE id = ?",
                    arguments: [Date().timeIntervalSince1970, run])
            }
            return (rows.count, scores)
        }
    }

    /// The imported run for a model and benchmark, reused by a re-import of the same file.
    func importRun(model: String, benchmark: String, origin: String, _ db: Database) throws -> Int64 {
        let modelID = try store.modelID(named: model, in: db)
        if let id = try Int64.fetchOne(
            db, sql: "SELECT id FROM run WHERE model_id = ? AND benchmark = ? AND origin = ? ORDER BY id DESC LIMIT 1",
            arguments: [modelID, benchmark, origin])
        {
            return id
        }
        try db.execute(
            sql: """
                INSERT INTO run (model_id, benchmark, origin, status, started_at) VALUES (?, ?, ?, 'importing', ?)
                """,
            arguments: [modelID, benchmark, origin, Date().timeIntervalSince1970])
        return db.lastInsertedRowID
    }

    /// Model keys of a `{"scores": {bench: {model: …}}}` file in the order they first appear.
    static func modelKeysInTextOrder(_ data: Data) -> [String] {
        guard let benches = (try? JSONValue.parse(data))?.object?["scores"]?.object else { return [] }
        let text = String(decoding: data, as: UTF8.self)
        var names: Set<String> = []
        for (_, b) in benches { for m in b.object?.keys ?? [] { names.insert(m) } }
        func firstOffset(_ name: String) -> Int {
            guard let r = text.range(of: "\"\(name)\"") else { return Int.max }
            return text.distance(from: text.startIndex, to: r.lowerBound)
        }
        return names.sorted { (firstOffset($0), $0) < (firstOffset($1), $1) }
    }
}
