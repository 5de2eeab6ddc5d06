import Foundation

// Legend: L layers, T tokens, K key/value heads, D head dim.

/// The K-vector "bone orientation" metrics of the LEK research, per layer and overall, computed
/// from post-RoPE keys (definitions and thresholds in docs/ATTENTION.md).
///
/// With more than `positionModeMaxKVHeads` key/value heads a layer's coherence is the mean
/// pairwise cosine between its heads; with fewer (Gemma 3 has 1) there are too few pairs, so the
/// layer is measured position-wise instead: how differently it orients the keys of different
/// positions.
public struct BoneOrientation: Hashable, Sendable, Codable {
    /// Cosine at or above which a pair counts as phase-locked.
    public static let phaseLockThreshold = 0.7
    /// Adjacent-layer alignment below which the joint counts as collapsed.
    public static let collapseThreshold = 0.5
    /// Layers with at most this many key/value heads are measured position-wise.
    public static let positionModeMaxKVHeads = 4
    /// Composite weights: coherence, cross-layer alignment, phase-lock, K-norm entropy, joint stability.
    public static let weights = (coherence: 0.30, alignment: 0.25, phaseLock: 0.20, entropy: 0.15, stability: 0.10)

    /// The metrics of one layer.
    public struct Layer: Hashable, Sendable, Codable {
        /// "heads" (pairwise head cosine) or "positions" (position-wise differentiation).
        public var mode: String
        /// Heads mode: mean pairwise head cosine. Positions mode: 1 − mean pairwise position cosine.
        public var coherence: Double
        /// Share of pairs (head pairs, or position pairs) with cosine ≥ 0.7.
        public var phaseLock: Double
        /// Pairs counted for `phaseLock`.
        public var pairs: Int
        /// Entropy of the per-position K norms ÷ log2 T, mean over key/value heads.
        public var kNormEntropy: Double
        /// Cosine of this layer's mean K vector with the next layer's; nil for the last layer.
        public var alignmentToNext: Double?
    }

    /// One entry per layer.
    public var layers: [Layer]
    /// Mean of the layers' coherence.
    public var meanCoherence: Double
    /// Mean adjacent-layer alignment.
    public var meanAlignment: Double
    /// Mean K-norm entropy.
    public var meanKNormEntropy: Double
    /// Phase-locked pairs ÷ all pairs, over every layer.
    public var phaseLock: Double
    /// Adjacent layer pairs whose alignment is below 0.5.
    public var collapseCount: Int
    /// 100 × the weighted sum (coherence and alignment clamped to 0…1, stability = 1 − collapses ÷ joints).
    public var composite: Double

    /// Computes the metrics from each layer's (T, K, D) keys.
    public init(keys: [[Float]], tokens t: Int, kvHeads: Int, headDim d: Int) {
        let kvDim = kvHeads * d
        var layers: [Layer] = []
        var means: [[Double]] = []
        var lockedPairs = 0
        var allPairs = 0
        for k in keys {
            precondition(
                k.count == t * kvDim, "BoneOrientation: layer keys have \(k.count) values, expected \(t)×\(kvDim)")
            let unit = Self.unitRows(k, rows: t * kvHeads, width: d)  // (T, K, D) normalised rows
            var coherence = 0.0
            var locked = 0
            var pairs = 0
            let positionMode = kvHeads <= Self.positionModeMaxKVHeads
            if positionMode {
                var cosSum = 0.0
                for h in 0..<kvHeads {
                    for a in 0..<t {
                        for b in (a + 1)..<t {
                            let c = Self.dot(unit, (a * kvHeads + h) * d, (b * kvHeads + h) * d, d)
                            cosSum += c
                            if c >= Self.phaseLockThreshold { locked += 1 }
                            pairs += 1
                        }
                    }
                }
                coherence = pairs > 0 ? 1 - cosSum / Double(pairs) : 0
            } else {
                var cosSum = 0.0
                for i in 0..<kvHeads {
                    for j in (i + 1)..<kvHeads {
                        var c = 0.0
                        for p in 0..<t { c += Self.dot(unit, (p * kvHeads + i) * d, (p * kvHeads + j) * d, d) }
                        c /= Double(max(t, 1))
                        cosSum += c
                        if c >= Self.phaseLockThreshold { locked += 1 }
                        pairs += 1
                    }
                }
                coherence = pairs > 0 ? cosSum / Double(pairs) : 0
            }
            lockedPairs += locked
            allPairs += pairs
            var entropy = 0.0
            for h in 0..<kvHeads {
                let norms = (0..<t).map { p in Self.norm(k, (p * kvHeads + h) * d, d) }
                entropy += Self.normalisedEntropy(norms)
            }
            var mean = [Double](repeating: 0, count: kvDim)
            for p in 0..<t { for i in 0..<kvDim { mean[i] += Double(k[p * kvDim + i]) } }
            means.append(mean)
            layers.append(
                Layer(
                    mode: positionMode ? "positions" : "heads", coherence: coherence,
                    phaseLock: pairs > 0 ? Double(locked) / Double(pairs) : 0, pairs: pairs,
                    kNormEntropy: kvHeads > 0 ? entropy / Double(kvHeads) : 0, alignmentToNext: nil))
        }
        var collapses = 0
        for l in 0..<max(layers.count - 1, 0) {
            let a = Self.cosine(means[l], means[l + 1])
            layers[l].alignmentToNext = a
            if a < Self.collapseThreshold { collapses += 1 }
        }
        self.layers = layers
        let n = Double(max(layers.count, 1))
        meanCoherence = layers.map(\.coherence).reduce(0, +) / n
        let alignments = layers.compactMap(\.alignmentToNext)
        meanAlignment = alignments.isEmpty ? 0 : alignments.reduce(0, +) / Double(alignments.count)
        meanKNormEntropy = layers.map(\.kNormEntropy).reduce(0, +) / n
        phaseLock = allPairs > 0 ? Double(lockedPairs) / Double(allPairs) : 0
        collapseCount = collapses
        let w = Self.weights
        let stability = alignments.isEmpty ? 1 : 1 - Double(collapses) / Double(alignments.count)
        let clamp = { (x: Double) in min(max(x, 0), 1) }
        composite =
            100
            * (w.coherence * clamp(meanCoherence) + w.alignment * clamp(meanAlignment)
                + w.phaseLock * phaseLock + w.entropy * meanKNormEntropy + w.stability * stability)
    }

    /// Shannon entropy (bits) of `values` normalised to sum 1, divided by log2 of their count;
    /// 0 for fewer than two values or an all-zero vector.
    public static func normalisedEntropy(_ values: [Double]) -> Double {
        let total = values.reduce(0, +)
        guard values.count > 1, total > 0 else { return 0 }
        var h = 0.0
        for v in values where v > 0 {
            let p = v / total
            h -= p * log2(p)
        }
        return h / log2(Double(values.count))
    }

    /// Cosine similarity; 0 when either vector is zero.
    public static func cosine(_ a: [Double], _ b: [Double]) -> Double {
        var ab = 0.0
        var aa = 0.0
        var bb = 0.0
        for i in a.indices {
            ab += a[i] * b[i]
            aa += a[i] * a[i]
            bb += b[i] * b[i]
        }
        return aa > 0 && bb > 0 ? ab / (aa.squareRoot() * bb.squareRoot()) : 0
    }

    static func unitRows(_ x: [Float], rows: Int, width: Int) -> [Double] {
        var out = [Double](repeating: 0, count: rows * width)
        for r in 0..<rows {
            let n = norm(x, r * width, width)
            guard n > 0 else { continue }
            for i in 0..<width { out[r * width + i] = Double(x[r * width + i]) / n }
        }
        return out
    }

    static func norm(_ x: [Float], _ offset: Int, _ count: Int) -> Double {
        var s = 0.0
        for i in 0..<count { s += Double(x[offset + i]) * Double(x[offset + i]) }
        return s.squareRoot()
    }

    static func dot(_ x: [Double], _ a: Int, _ b: Int, _ count: Int) -> Double {
        var s = 0.0
        for i in 0..<count { s += x[a + i] * x[b + i] }
        return s
    }
}
