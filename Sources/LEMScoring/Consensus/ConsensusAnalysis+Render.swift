import Foundation
import LEMCore

extension ConsensusAnalysis {
    /// The result as `lem bench consensus --format json` prints it: `{"models": {NAME: {"theta",
    /// "ci": [lo, hi], "wins", "losses", "ties"}}, "items", "pairs", "unanimous_share",
    /// "fleiss_kappa"}`, models strongest first; κ is `null` when undefined.
    public var json: JSONValue {
        let models = JSONObject(
            members: self.models.map { m in
                (
                    m.name,
                    JSONValue.object(
                        JSONObject(members: [
                            ("theta", .double(m.theta)), ("ci", .array([.double(m.low), .double(m.high)])),
                            ("wins", .int(m.wins)), ("losses", .int(m.losses)), ("ties", .int(m.ties))
                        ]))
                )
            })
        return .object(
            JSONObject(members: [
                ("models", .object(models)), ("items", .int(items)), ("pairs", .int(pairs)),
                ("unanimous_share", .double(unanimousShare)),
                ("fleiss_kappa", fleissKappa.map(JSONValue.double) ?? JSONValue.null)
            ]))
    }

    /// What a reader should know about the numbers: a fit that had no finite maximum.
    public var notes: [String] {
        var out: [String] = []
        if regularised {
            out.append(
                "no finite Bradley–Terry maximum (a model won or lost every comparison it had): θ fitted with "
                    + "\(BradleyTerry.epsilon) pseudo-wins between every pair, so extreme θ are lower bounds "
                    + "of their size")
        }
        if regularisedResamples > 0 {
            out.append("\(regularisedResamples) of the bootstrap resamples were regularised the same way")
        }
        if fleissKappa == nil {
            out.append("Fleiss' κ undefined: no subject has two judges, or every verdict is in one category")
        }
        return out
    }

    /// A ranking table with intervals and records, then unanimity and κ, then the notes.
    public var text: String {
        let judgesText = "\(judges) judge\(judges == 1 ? "" : "s")"
        var lines = [
            "Consensus: \(models.count) models, \(items) items, \(pairs) (item, pair) comparisons, \(judgesText)",
            ""
        ]
        let width = max(5, models.map(\.name.count).max() ?? 0)
        func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
            let fill = String(repeating: " ", count: max(0, n - s.count))
            return left ? s + fill : fill + s
        }
        lines.append(
            pad("#", 3) + "  " + pad("model", width, left: true) + pad("θ", 9) + "  " + pad("95 % CI", 19, left: true)
                + pad("wins", 6) + pad("losses", 8) + pad("ties", 6))
        for (rank, m) in models.enumerated() {
            let ci = "[\(Self.signed(m.low)), \(Self.signed(m.high))]"
            lines.append(
                pad("\(rank + 1)", 3) + "  " + pad(m.name, width, left: true) + pad(Self.signed(m.theta), 9) + "  "
                    + pad(ci, 19, left: true) + pad("\(m.wins)", 6) + pad("\(m.losses)", 8) + pad("\(m.ties)", 6))
        }
        let unanimous = subjects.filter(\.isUnanimous).count
        lines.append("")
        lines.append(
            "unanimous: \(unanimous) of \(pairs) (\(String(format: "%.1f", unanimousShare * 100)) %) · Fleiss' κ "
                + (fleissKappa.map { String(format: "%.3f", $0) } ?? "undefined"))
        lines += notes.map { "note: " + $0 }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `+0.123` / `-0.456`.
    static func signed(_ v: Double) -> String { (v >= 0 ? "+" : "") + String(format: "%.3f", v) }
}
