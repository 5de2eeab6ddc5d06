import Foundation
import LEMCore
import LEMEngine
import LEMFormats

/// Writes an attention analysis (and an optional comparison) as JSON, CSV or a text table.
struct AttentionReport {
    let model: String
    let tokens: [String]
    let analysis: AttentionAnalysis
    let comparison: (label: String, result: AttentionComparison)?
    /// Only this layer / head, when set.
    let layer: Int?
    let head: Int?
    let includeMaps: Bool

    var selectedLayers: [AttentionAnalysis.Layer] {
        analysis.layers.filter { layer == nil || $0.layer == layer }
    }

    func selectedHeads(_ l: AttentionAnalysis.Layer) -> [AttentionAnalysis.Head] {
        l.heads.filter { head == nil || $0.head == head }
    }

    /// A JSON number, or null for NaN and infinities.
    static func number(_ x: Double) -> String { x.isFinite ? "\(x)" : "null" }

    static func object(_ pairs: [(String, String)]) -> String {
        "{" + pairs.map { "\(JSONText.quote($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
    }

    static func statsObject(_ s: HeadStatistics) -> String {
        object(
            HeadStatistics.names.map { name in
                (name, name == "max_token" ? "\(s.maxToken)" : number(s.value(name) ?? .nan))
            })
    }

    static func kvObject(_ kv: BoneOrientation.Layer) -> String {
        object([
            ("mode", JSONText.quote(kv.mode)), ("coherence", number(kv.coherence)),
            ("phase_lock", number(kv.phaseLock)),
            ("pairs", "\(kv.pairs)"), ("k_norm_entropy", number(kv.kNormEntropy)),
            ("alignment_to_next", kv.alignmentToNext.map(number) ?? "null")
        ])
    }

    /// `{"tokens": [...], "layers": [{"layer", "kv", "heads": [{"head", "stats", "map"}]}], ...}`.
    func json() -> String {
        var out =
            "{\"model\": \(JSONText.quote(model)), \"ids\": [" + analysis.ids.map(String.init).joined(separator: ", ")
            + "], "
        out += "\"tokens\": [" + tokens.map(JSONText.quote).joined(separator: ", ") + "], "
        let b = analysis.bone
        out +=
            "\"bone\": "
            + Self.object([
                ("mean_coherence", Self.number(b.meanCoherence)), ("mean_alignment", Self.number(b.meanAlignment)),
                ("mean_k_norm_entropy", Self.number(b.meanKNormEntropy)), ("phase_lock", Self.number(b.phaseLock)),
                ("collapse_count", "\(b.collapseCount)"), ("composite", Self.number(b.composite))
            ]) + ", \"layers\": ["
        let t = analysis.ids.count
        out +=
            selectedLayers.map { l in
                var s = "{\"layer\": \(l.layer), \"window\": \(l.window), \"kv\": \(Self.kvObject(l.kv)), \"heads\": ["
                s += selectedHeads(l).map { h in
                    var e = "{\"head\": \(h.head), \"stats\": \(Self.statsObject(h.stats))"
                    if includeMaps, h.map.count == t * t {
                        e +=
                            ", \"map\": ["
                            + (0..<t).map { q in
                                "[" + (0..<t).map { k in "\(h.map[q * t + k])" }.joined(separator: ", ") + "]"
                            }.joined(separator: ", ") + "]"
                    }
                    return e + "}"
                }.joined(separator: ", ")
                return s + "]}"
            }.joined(separator: ", ") + "]"
        if let (label, c) = comparison {
            out += ", \"compare\": {\"against\": \(JSONText.quote(label)), \"bone_deltas\": "
            out += Self.object(c.boneDeltas.keys.sorted().map { ($0, Self.number(c.boneDeltas[$0]!)) })
            out +=
                ", \"ranked\": ["
                + filtered(c.ranked).map { h in
                    Self.object([
                        ("layer", "\(h.layer)"), ("head", "\(h.head)"),
                        ("map_mean_abs_diff", Self.number(h.mapMeanAbsDiff)),
                        ("map_max_abs_diff", Self.number(h.mapMaxAbsDiff)),
                        ("deltas", Self.object(HeadStatistics.names.map { ($0, Self.number(h.deltas[$0] ?? .nan)) }))
                    ])
                }.joined(separator: ", ") + "]}"
        }
        return out + "}"
    }

    func filtered(_ heads: [AttentionComparison.HeadChange]) -> [AttentionComparison.HeadChange] {
        heads.filter { (layer == nil || $0.layer == layer) && (head == nil || $0.head == head) }
    }

    /// One row per (layer, head): the statistics, the layer's K metrics and, when comparing, the change.
    func csv() -> String {
        var header =
            ["layer", "head", "window"] + HeadStatistics.names + [
                "kv_mode", "kv_coherence", "kv_phase_lock", "kv_k_norm_entropy", "kv_alignment_to_next"
            ]
        let changes = comparison.map {
            Dictionary(uniqueKeysWithValues: $0.result.heads.map { ("\($0.layer),\($0.head)", $0) })
        }
        if changes != nil {
            header += ["map_mean_abs_diff", "map_max_abs_diff"] + HeadStatistics.names.map { "delta_" + $0 }
        }
        var lines = [header.joined(separator: ",")]
        for l in selectedLayers {
            for h in selectedHeads(l) {
                var row = ["\(l.layer)", "\(h.head)", "\(l.window)"]
                row += HeadStatistics.names.map { name in
                    name == "max_token" ? "\(h.stats.maxToken)" : "\(h.stats.value(name) ?? .nan)"
                }
                row += [
                    l.kv.mode, "\(l.kv.coherence)", "\(l.kv.phaseLock)", "\(l.kv.kNormEntropy)",
                    l.kv.alignmentToNext.map { "\($0)" } ?? ""
                ]
                if let change = changes?["\(l.layer),\(h.head)"] {
                    row +=
                        ["\(change.mapMeanAbsDiff)", "\(change.mapMaxAbsDiff)"]
                        + HeadStatistics.names.map { "\(change.deltas[$0] ?? .nan)" }
                }
                lines.append(row.joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// A readable summary: the tokens, the bone metrics, a per-head table and the most changed heads.
    func text() -> String {
        func f(_ x: Double) -> String { String(format: "%7.3f", x) }
        var lines: [String] = []
        lines.append("\(model): \(tokens.count) tokens")
        lines.append(
            "tokens: "
                + tokens.enumerated().map { "\($0.offset):\($0.element.debugDescription)" }.joined(separator: " "))
        let b = analysis.bone
        lines.append(
            String(
                format:
                    "bone orientation: composite %.2f  coherence %.4f  alignment %.4f  k-norm entropy %.4f  phase-lock %.4f  collapses %d",
                b.composite, b.meanCoherence, b.meanAlignment, b.meanKNormEntropy, b.phaseLock, b.collapseCount))
        lines.append("layer head window  entropy    sink    prev    diag   local   dist  max(tok mass)")
        for l in selectedLayers {
            let kv = l.kv
            lines.append(
                String(
                    format: "L%-3d kv %@ coherence %.4f phase-lock %.4f k-norm entropy %.4f alignment→next %@",
                    l.layer, kv.mode, kv.coherence, kv.phaseLock, kv.kNormEntropy,
                    kv.alignmentToNext.map { String(format: "%.4f", $0) } ?? "—"))
            for h in selectedHeads(l) {
                let s = h.stats
                lines.append(
                    String(format: "%5d %4d %6d", l.layer, h.head, l.window) + " "
                        + [s.entropy, s.sink, s.previousToken, s.diagonal, s.locality, s.meanDistance].map(f).joined(
                            separator: " ")
                        + String(format: "  %d (%.3f)", s.maxToken, s.maxTokenMass))
            }
        }
        if let (label, c) = comparison {
            lines.append(
                "compared with \(label): composite Δ \(String(format: "%+.3f", c.boneDeltas["composite"] ?? 0))")
            lines.append("most changed heads (mean |ΔP| over attendable cells):")
            for h in filtered(c.ranked).prefix(10) {
                lines.append(
                    String(
                        format: "  L%d H%d  mad %.6f  max %.6f  Δentropy %+.4f  Δsink %+.4f", h.layer, h.head,
                        h.mapMeanAbsDiff,
                        h.mapMaxAbsDiff, h.deltas["entropy"] ?? 0, h.deltas["sink"] ?? 0))
            }
        }
        return lines.joined(separator: "\n")
    }
}
