import Foundation

/// Summary numbers of one head's attention map (definitions in docs/ATTENTION.md).
///
/// All are averages over the "rows with a choice": query positions q = 1…T−1 (for T = 1, the
/// single row). Every statistic is a pure function of the (T, T) map and the layer's window.
public struct HeadStatistics: Hashable, Sendable, Codable {
    /// Shannon entropy of each row divided by ln(number of attendable keys), averaged over rows
    /// with ≥ 2 attendable keys: 0 = one-hot, 1 = uniform over what the mask allows.
    public var entropy: Double
    /// Probability on key 0 (the first token, usually BOS): the attention sink.
    public var sink: Double
    /// Probability on key q − 1.
    public var previousToken: Double
    /// Probability on key q itself.
    public var diagonal: Double
    /// Probability on keys q − 4 … q (the query and its four predecessors).
    public var locality: Double
    /// Σ_k P[q,k]·(q − k): how far back the head looks, in tokens.
    public var meanDistance: Double
    /// The key position with the largest mean probability over the rows.
    public var maxToken: Int
    /// That key's mean probability.
    public var maxTokenMass: Double

    /// The keys of `HeadStatistics.names` in order, as used by the CLI, JSON and the TUI.
    public static let names = [
        "entropy", "sink", "previous_token", "diagonal", "locality", "mean_distance", "max_token", "max_token_mass"
    ]

    /// The statistic called `name` (one of `names`), nil for an unknown name.
    public func value(_ name: String) -> Double? {
        switch name {
        case "entropy": return entropy
        case "sink": return sink
        case "previous_token": return previousToken
        case "diagonal": return diagonal
        case "locality": return locality
        case "mean_distance": return meanDistance
        case "max_token": return Double(maxToken)
        case "max_token_mass": return maxTokenMass
        default: return nil
        }
    }

    /// The number of keys query `q` may attend: causal, and within `window` when `window > 0`.
    public static func attendable(query q: Int, window: Int) -> Int { window > 0 ? min(q + 1, window) : q + 1 }
}

extension HeadStatistics {
    /// Computes the statistics of a (T, T) row-major map whose layer has sliding `window`
    /// (0 = full attention).
    public init(map: [Float], tokens t: Int, window: Int) {
        precondition(map.count == t * t, "HeadStatistics: map has \(map.count) values, expected \(t)×\(t)")
        let rows = t > 1 ? Array(1..<t) : (t == 1 ? [0] : [])
        var entropySum = 0.0
        var entropyRows = 0
        var sink = 0.0
        var previous = 0.0
        var diagonal = 0.0
        var local = 0.0
        var distance = 0.0
        var column = [Double](repeating: 0, count: t)
        for q in rows {
            let row = q * t
            var h = 0.0
            for k in 0...q {
                let p = Double(map[row + k])
                if p > 0 { h -= p * log(p) }
                column[k] += p
                distance += p * Double(q - k)
                if q - k <= 4 { local += p }
            }
            let n = Self.attendable(query: q, window: window)
            if n > 1 {
                entropySum += h / log(Double(n))
                entropyRows += 1
            }
            sink += Double(map[row])
            if q > 0 { previous += Double(map[row + q - 1]) }
            diagonal += Double(map[row + q])
        }
        let count = Double(max(rows.count, 1))
        entropy = entropyRows > 0 ? entropySum / Double(entropyRows) : 0
        self.sink = sink / count
        previousToken = previous / count
        self.diagonal = diagonal / count
        locality = local / count
        meanDistance = distance / count
        var best = 0
        for k in column.indices where column[k] > column[best] { best = k }
        maxToken = best
        maxTokenMass = t > 0 ? column[best] / count : 0
    }
}
