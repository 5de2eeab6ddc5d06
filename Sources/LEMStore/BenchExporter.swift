import Foundation
import GRDB
import LEMCore
import LEMScoring

/// Writes stored responses and scores back to the LEM files' shapes, or to CSV and Markdown.
public struct BenchExporter: Sendable {
    /// Output formats.
    public enum Format: String, Sendable {
        /// `results/<bench>_<model>.jsonl` plus `standard_scores.json`.
        case lem
        /// `responses.csv` and `scores.csv`, one row per response / per score.
        case csv
        /// `responses.md`: each item with every model's response and scores.
        case markdown
    }

    /// The store read from.
    public let store: ResultStore

    /// Creates an exporter.
    public init(store: ResultStore) { self.store = store }

    struct Entry {
        var bench: String, model: String, key: String, prompt: String, response: String, seconds: Double?
        var responseID: Int64
    }

    struct ScoreRow {
        var responseID: Int64, scorer: String, dimension: String, value: Double?, status: String, reasoning: String?
    }

    func load(scorers: [String]) throws -> ([Entry], [Int64: [ScoreRow]]) {
        try store.read { db in
            let entries = try Row.fetchAll(
                db,
                sql: """
                    SELECT run.benchmark AS bench, model.name AS model, item.key AS key, item.prompt AS prompt,
                           response.text AS text, response.seconds AS seconds, response.id AS rid
                    FROM response JOIN run ON run.id = response.run_id JOIN model ON model.id = run.model_id
                    JOIN item ON item.id = response.item_id
                    WHERE run.id IN (SELECT MAX(id) FROM run GROUP BY model_id, benchmark)
                    ORDER BY run.benchmark, model.id, item.key
                    """
            ).map {
                Entry(
                    bench: $0["bench"], model: $0["model"], key: $0["key"], prompt: $0["prompt"],
                    response: $0["text"], seconds: $0["seconds"], responseID: $0["rid"])
            }
            var scores: [Int64: [ScoreRow]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM score ORDER BY scorer, dimension") {
                let s = ScoreRow(
                    responseID: row["response_id"], scorer: row["scorer"], dimension: row["dimension"],
                    value: row["value"], status: row["status"], reasoning: row["reasoning"])
                if scorers.isEmpty || scorers.contains(s.scorer) { scores[s.responseID, default: []].append(s) }
            }
            return (entries, scores)
        }
    }

    /// Writes the export into `directory`; returns the files written.
    public func export(format: Format, to directory: URL, scorers: [String]) throws -> [URL] {
        let (entries, scores) = try load(scorers: format == .csv ? [] : scorers)
        switch format {
        case .lem: return try exportLEM(entries, scores, scorers, directory)
        case .csv: return try exportCSV(entries, scores, directory)
        case .markdown: return try exportMarkdown(entries, scores, directory)
        }
    }

    /// For each dimension, the value of the most preferred scorer that has one.
    static func preferred(_ rows: [ScoreRow], _ scorers: [String]) -> [String: ScoreRow] {
        var best: [String: ScoreRow] = [:]
        for r in rows {
            let rank = scorers.firstIndex(of: r.scorer) ?? scorers.count
            if let b = best[r.dimension], (scorers.firstIndex(of: b.scorer) ?? scorers.count) <= rank { continue }
            best[r.dimension] = r
        }
        return best
    }

    func exportLEM(_ entries: [Entry], _ scores: [Int64: [ScoreRow]], _ scorers: [String], _ dir: URL) throws -> [URL] {
        var files: [String: [String]] = [:]
        var all: [String: [String: [String: JSONValue]]] = [:]
        for e in entries {
            var line: [String: JSONValue] = [
                "id": .string(e.key), "benchmark": .string(e.bench), "model": .string(e.model),
                "prompt": .string(e.prompt), "response": .string(e.response)
            ]
            if let s = e.seconds { line["elapsed_seconds"] = .double(s) }
            files["\(e.bench)_\(e.model)", default: []].append(JSONValue.object(line).jsonText())
            let best = Self.preferred(scores[e.responseID] ?? [], scorers)
            guard !best.isEmpty else { continue }
            var object: [String: JSONValue] = [:]
            for (dim, r) in best {
                if e.bench == "gsm8k", dim == "correct" {
                    object["correct"] = .bool((r.value ?? 0) >= 0.5)
                    let parts = Self.detailFields(r.reasoning)
                    object["extracted"] = parts["extracted"].map { $0 == "none" ? .null : .string($0) } ?? .null
                    object["expected"] = parts["expected"].map(JSONValue.string) ?? .null
                } else {
                    object[dim] = r.value.map(JSONValue.double) ?? .null
                    if let reasoning = r.reasoning { object["reasoning"] = .string(reasoning) }
                }
            }
            all[e.bench, default: [:]][e.model, default: [:]][e.key] = .object(object)
        }
        var written: [URL] = []
        for (name, lines) in files.sorted(by: { $0.key < $1.key }) {
            let url = dir.appendingPathComponent("results/\(name).jsonl")
            try AtomicFile.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: url)
            written.append(url)
        }
        let doc = JSONValue.object(["scores": .object(all.mapValues { .object($0.mapValues { .object($0) }) })])
        let url = dir.appendingPathComponent("standard_scores.json")
        try AtomicFile.write(Data((doc.jsonText(pretty: true) + "\n").utf8), to: url)
        written.append(url)
        return written
    }

    /// Parses `extracted=X expected=Y` details written by the GSM8K scorers.
    static func detailFields(_ detail: String?) -> [String: String] {
        var out: [String: String] = [:]
        for part in (detail ?? "").split(separator: " ") {
            let kv = part.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { out[String(kv[0])] = String(kv[1]) }
        }
        return out
    }

    func exportCSV(_ entries: [Entry], _ scores: [Int64: [ScoreRow]], _ dir: URL) throws -> [URL] {
        var responses = "benchmark,model,item,prompt,response,seconds\n"
        var scoreText = "benchmark,model,item,scorer,dimension,value,status,reasoning\n"
        for e in entries {
            responses +=
                [e.bench, e.model, e.key, e.prompt, e.response, e.seconds.map { String($0) } ?? ""]
                .map(CSV.escape).joined(separator: ",") + "\n"
            for s in scores[e.responseID] ?? [] {
                scoreText +=
                    [
                        e.bench, e.model, e.key, s.scorer, s.dimension, s.value.map { String($0) } ?? "", s.status,
                        s.reasoning ?? ""
                    ].map(CSV.escape).joined(separator: ",") + "\n"
            }
        }
        let r = dir.appendingPathComponent("responses.csv")
        let s = dir.appendingPathComponent("scores.csv")
        try AtomicFile.write(Data(responses.utf8), to: r)
        try AtomicFile.write(Data(scoreText.utf8), to: s)
        return [r, s]
    }

    func exportMarkdown(_ entries: [Entry], _ scores: [Int64: [ScoreRow]], _ dir: URL) throws -> [URL] {
        var md = "# Responses\n"
        var lastBench = ""
        var lastItem = ""
        for e in entries.sorted(by: { ($0.bench, $0.key) < ($1.bench, $1.key) }) {
            if e.bench != lastBench {
                md += "\n## \(e.bench)\n"
                lastBench = e.bench
                lastItem = ""
            }
            if e.key != lastItem {
                md += "\n### \(e.key)\n\n> " + e.prompt.replacingOccurrences(of: "\n", with: "\n> ") + "\n"
                lastItem = e.key
            }
            let s = (scores[e.responseID] ?? []).compactMap { r in r.value.map { "\(r.dimension) \(Self.short($0))" } }
            md += "\n**\(e.model)**" + (s.isEmpty ? "" : " — " + s.joined(separator: ", ")) + "\n\n"
            md += "```text\n" + e.response.replacingOccurrences(of: "```", with: "ʼʼʼ") + "\n```\n"
        }
        let url = dir.appendingPathComponent("responses.md")
        try AtomicFile.write(Data(md.utf8), to: url)
        return [url]
    }

    static func short(_ v: Double) -> String {
        v.rounded() == v ? String(Int(v)) : String(format: "%.2f", v)
    }
}
