import Foundation
import LEMCore
import LEMScoring

/// Output formats of `lem bench report`.
public enum ReportFormat: String, Sendable, CaseIterable {
    case text, markdown, csv, json
}

extension BenchReport {
    /// Renders the report in `format`.
    public func render(_ format: ReportFormat) -> String {
        switch format {
        case .text: return renderTable(markdown: false)
        case .markdown: return renderTable(markdown: true)
        case .csv: return renderCSV()
        case .json: return renderJSON()
        }
    }

    /// Formats a mean: accuracy with one decimal and `%`, 1–10 scores with two decimals.
    static func formatMean(_ v: Double, dimension: String) -> String {
        dimension == "accuracy" ? String(format: "%.1f%%", v) : String(format: "%.2f", v)
    }

    /// Formats a relative delta as `+34.6%`.
    static func formatPercent(_ v: Double?) -> String {
        guard let v else { return "—" }
        return String(format: "%+.1f%%", v)
    }

    /// Formats an absolute delta (percentage points for accuracy).
    static func formatDelta(_ v: Double?, dimension: String) -> String {
        guard let v else { return "—" }
        return dimension == "accuracy" ? String(format: "%+.1fpp", v) : String(format: "%+.2f", v)
    }

    /// A differential cell: the absolute delta, and for scores (not percentages, whose relative
    /// change reads as nonsense like +1600%) the relative change in brackets.
    static func formatDifferential(_ cell: Cell, dimension: String) -> String {
        let absolute = formatDelta(cell.delta, dimension: dimension)
        return dimension == "accuracy" ? absolute : "\(absolute) (\(formatPercent(cell.deltaPercent)))"
    }

    var columns: [(bench: String, dim: Dimension)] {
        benchmarks.flatMap { b in b.dimensions.map { (b.name, $0) } }
    }

    func renderTable(markdown: Bool) -> String {
        let cols = columns
        let header = ["model"] + cols.map { "\($0.bench) \($0.dim.name)" }
        var main: [[String]] = []
        for m in models {
            main.append(
                [m]
                    + cols.map { c in
                        c.dim.cells[m].map { Self.formatMean($0.mean, dimension: c.dim.name) } ?? "—"
                    })
        }
        var out = markdown ? "### Scores (mean over items)\n\n" : "Scores (mean over items)\n"
        out += Self.table(header: header, rows: main, markdown: markdown)
        let ns = Set(cols.flatMap { $0.dim.cells.values.map(\.n) })
        if ns.count == 1, let n = ns.first {
            out += (markdown ? "\nn = \(n) per cell\n" : "n = \(n) per cell\n")
        } else {
            out += (markdown ? "\nn varies per cell (see csv/json)\n" : "n varies per cell (see csv/json)\n")
        }
        if let baseline {
            var diff: [[String]] = []
            for m in models where m != baseline {
                diff.append(
                    [m]
                        + cols.map { c in
                            guard let cell = c.dim.cells[m], cell.delta != nil else { return "—" }
                            return Self.formatDifferential(cell, dimension: c.dim.name)
                        })
            }
            out +=
                markdown
                ? "\n### Differential vs \(baseline)\n\n"
                : "\nDifferential vs \(baseline) (absolute, relative; accuracy in percentage points)\n"
            out += Self.table(header: header, rows: diff, markdown: markdown)
        }
        return out
    }

    static func table(header: [String], rows: [[String]], markdown: Bool) -> String {
        if markdown {
            var s = "| " + header.joined(separator: " | ") + " |\n"
            s += "|" + header.enumerated().map { $0.offset == 0 ? "---|" : "---:|" }.joined() + "\n"
            for r in rows { s += "| " + r.joined(separator: " | ") + " |\n" }
            return s
        }
        let all = [header] + rows
        let widths = header.indices.map { i in all.map { $0[i].count }.max() ?? 0 }
        func line(_ r: [String]) -> String {
            r.enumerated().map { i, c in
                let pad = String(repeating: " ", count: widths[i] - c.count)
                return i == 0 ? c + pad : pad + c
            }.joined(separator: "  ")
        }
        var s = line(header) + "\n"
        s += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
        for r in rows { s += line(r) + "\n" }
        return s
    }

    func renderCSV() -> String {
        var s = "benchmark,dimension,model,mean,n,delta,delta_pct,scorer\n"
        for b in benchmarks {
            for d in b.dimensions {
                for m in models {
                    guard let c = d.cells[m] else { continue }
                    let delta = c.delta.map { String($0) } ?? ""
                    let pct = c.deltaPercent.map { String($0) } ?? ""
                    s +=
                        [b.name, d.name, m, String(c.mean), String(c.n), delta, pct, d.scorers[m] ?? ""]
                        .map(CSV.escape).joined(separator: ",") + "\n"
                }
            }
        }
        return s
    }

    /// The JSON document `{"baseline": M, "benchmarks": {B: {D: {M: {mean, n, delta, delta_pct}}}}}`.
    public var json: JSONValue {
        var benches: [String: JSONValue] = [:]
        for b in benchmarks {
            var dims: [String: JSONValue] = [:]
            for d in b.dimensions {
                var cells: [String: JSONValue] = [:]
                for (m, c) in d.cells {
                    cells[m] = .object([
                        "mean": .double(c.mean), "n": .int(c.n),
                        "delta": c.delta.map(JSONValue.double) ?? .null,
                        "delta_pct": c.deltaPercent.map(JSONValue.double) ?? .null
                    ])
                }
                dims[d.name] = .object(cells)
            }
            benches[b.name] = .object(dims)
        }
        return .object(["baseline": baseline.map(JSONValue.string) ?? .null, "benchmarks": .object(benches)])
    }

    func renderJSON() -> String { json.jsonText(pretty: true) + "\n" }
}

/// CSV quoting (RFC 4180): fields with commas, quotes or newlines are quoted, quotes doubled.
enum CSV {
    static func escape(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
