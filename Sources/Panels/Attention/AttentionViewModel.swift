/// What the attention panel shows: a per-(layer, head) statistic and one head's T×T weights.
public struct AttentionViewModel: Hashable, Sendable {
    public internal(set) var layers: Int
    public internal(set) var heads: Int
    /// The statistic's name (e.g. "entropy").
    public internal(set) var statistic: String
    /// Names of the statistics the source can compute (for cycling).
    public internal(set) var statistics: [String]
    /// (layers, heads) statistic values, row-major.
    public internal(set) var stats: [Float]
    /// The prompt's tokens (T).
    public internal(set) var tokens: [String]
    /// The head whose map is loaded.
    public internal(set) var layer: Int
    public internal(set) var head: Int
    /// (T, T) weights of the loaded head: row = query position, column = key position.
    /// In difference mode: |B − A| of the two runs' maps.
    public internal(set) var weights: [Float]
    /// The text being analysed (empty when none yet).
    public internal(set) var prompt: String = ""
    /// Progress or error text from the source ("analysing…", "cannot …"), nil when idle.
    public internal(set) var status: String? = nil
    /// The second model/adapter to compare with, nil when the source has none.
    public internal(set) var compareLabel: String? = nil
    /// Whether the grid and map show the difference from the second run instead of the first run.
    public internal(set) var showsDifference = false
    /// Heads ranked by change (largest first), filled in difference mode.
    public internal(set) var ranked: [RankedHead] = []

    /// One head of the ranking by change.
    public struct RankedHead: Hashable, Sendable {
        public var layer: Int
        public var head: Int
        /// The change measure (map mean absolute difference).
        public var value: Float
    }

    /// Creates a view model; sizes that do not match the arrays are treated as missing values.
    public init(
        layers: Int = 0, heads: Int = 0, statistic: String = "entropy", statistics: [String] = ["entropy"],
        stats: [Float] = [],
        tokens: [String] = [], layer: Int = 0, head: Int = 0, weights: [Float] = []
    ) {
        self.layers = layers
        self.heads = heads
        self.statistic = statistic
        self.statistics = statistics
        self.stats = stats
        self.tokens = tokens
        self.layer = layer
        self.head = head
        self.weights = weights
    }

    /// The statistic of (layer, head), nil when missing.
    public func stat(_ l: Int, _ h: Int) -> Float? {
        guard l >= 0, h >= 0, l < layers, h < heads, l * heads + h < stats.count else { return nil }
        return stats[l * heads + h]
    }

    /// The weight of query `q` on key `k`, nil when missing.
    public func weight(_ q: Int, _ k: Int) -> Float? {
        let t = tokens.count
        guard q >= 0, k >= 0, q < t, k < t, q * t + k < weights.count else { return nil }
        return weights[q * t + k]
    }

    /// The status line while a capture runs.
    public static let capturingStatus = "analysing…"

    /// Whether a capture is running.
    public var isCapturing: Bool { status == Self.capturingStatus }

    /// The finite range of the statistics (0...1 when empty or flat).
    public var statRange: ClosedRange<Float> {
        let finite = stats.filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max(), hi > lo else { return 0...1 }
        return lo...hi
    }
}

/// The changes the attention service makes: every field of `AttentionViewModel` is read-only
/// outside Panels and changes through these methods.
extension AttentionViewModel {
    /// Takes the analysis of `fresh`, keeping the prompt, status and comparison label shown.
    public mutating func replaceAnalysis(with fresh: AttentionViewModel, status: String? = nil) {
        let (prompt, compareLabel) = (self.prompt, self.compareLabel)
        self = fresh
        self.prompt = prompt
        self.compareLabel = compareLabel
        self.status = status
    }

    /// Sets the progress or error line (nil when idle).
    public mutating func setStatus(_ text: String?) { status = text }

    /// Sets the text being analysed.
    public mutating func setPrompt(_ text: String) { prompt = text }

    /// Names the second model or adapter compared against (nil: none).
    public mutating func setCompareLabel(_ text: String?) { compareLabel = text }

    /// Marks the view as showing the difference from the second run, with its ranking.
    public mutating func showDifference(ranked: [(layer: Int, head: Int, value: Float)]) {
        showsDifference = true
        self.ranked = ranked.map { RankedHead(layer: $0.layer, head: $0.head, value: $0.value) }
    }
}
