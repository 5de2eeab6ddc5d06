/// The difference between two analyses of the same tokens (two models, or a model with and
/// without an adapter): per-head statistic deltas and map differences, heads ranked by change.
public struct AttentionComparison: Sendable {
    /// One head's change from A to B.
    public struct HeadChange: Sendable, Hashable {
        public var layer: Int
        public var head: Int
        /// B − A for each statistic in `HeadStatistics.names`.
        public var deltas: [String: Double]
        /// Mean |P_B − P_A| over the cells the mask allows (k ≤ q, inside the window).
        public var mapMeanAbsDiff: Double
        /// Largest |P_B − P_A| over all cells.
        public var mapMaxAbsDiff: Double
    }

    /// Every head, in (layer, head) order.
    public var heads: [HeadChange]
    /// B − A for the bone-orientation summary: coherence, alignment, K-norm entropy, phase-lock, composite.
    public var boneDeltas: [String: Double]

    /// Compares two analyses that kept their maps; throws when their shapes or tokens differ.
    public init(_ a: AttentionAnalysis, _ b: AttentionAnalysis) throws {
        guard a.ids == b.ids else { throw AttentionError.shapeMismatch("the two runs saw different tokens") }
        guard a.layers.count == b.layers.count, a.heads == b.heads else {
            throw AttentionError.shapeMismatch(
                "A has \(a.layers.count) layers × \(a.heads) heads, B \(b.layers.count) × \(b.heads)")
        }
        let t = a.ids.count
        var out: [HeadChange] = []
        for (la, lb) in zip(a.layers, b.layers) {
            for (ha, hb) in zip(la.heads, lb.heads) {
                guard ha.map.count == t * t, hb.map.count == t * t else {
                    throw AttentionError.shapeMismatch("layer \(la.layer) head \(ha.head): maps were not kept")
                }
                var sum = 0.0
                var cells = 0
                var worst = 0.0
                for q in 0..<t {
                    for k in 0..<t {
                        let d = abs(Double(hb.map[q * t + k]) - Double(ha.map[q * t + k]))
                        worst = max(worst, d)
                        if k <= q, la.window == 0 || k > q - la.window {
                            sum += d
                            cells += 1
                        }
                    }
                }
                var deltas: [String: Double] = [:]
                for name in HeadStatistics.names {
                    deltas[name] = (hb.stats.value(name) ?? 0) - (ha.stats.value(name) ?? 0)
                }
                out.append(
                    HeadChange(
                        layer: la.layer, head: ha.head, deltas: deltas,
                        mapMeanAbsDiff: cells > 0 ? sum / Double(cells) : 0, mapMaxAbsDiff: worst))
            }
        }
        heads = out
        boneDeltas = [
            "coherence": b.bone.meanCoherence - a.bone.meanCoherence,
            "alignment": b.bone.meanAlignment - a.bone.meanAlignment,
            "k_norm_entropy": b.bone.meanKNormEntropy - a.bone.meanKNormEntropy,
            "phase_lock": b.bone.phaseLock - a.bone.phaseLock,
            "collapse_count": Double(b.bone.collapseCount - a.bone.collapseCount),
            "composite": b.bone.composite - a.bone.composite
        ]
    }

    /// Heads ordered by map mean-absolute difference, largest first (ties by layer, head).
    public var ranked: [HeadChange] {
        heads.sorted {
            $0.mapMeanAbsDiff != $1.mapMeanAbsDiff
                ? $0.mapMeanAbsDiff > $1.mapMeanAbsDiff
                : ($0.layer, $0.head) < ($1.layer, $1.head)
        }
    }
}
