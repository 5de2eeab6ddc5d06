/// Errors from attention capture and analysis.
public enum AttentionError: Error, CustomStringConvertible, Equatable {
    case tooManyTokens(requested: Int, limit: Int)
    case badLayer(Int, layers: Int)
    case discontinuous(layer: Int, expected: Int, got: Int)
    case shapeMismatch(String)
    case noTokens

    public var description: String {
        switch self {
        case .tooManyTokens(let requested, let limit):
            return "attention capture: \(requested) tokens exceed the cap of \(limit) "
                + "(maps need heads × T × T floats per layer); shorten the input or raise --max-tokens"
        case .badLayer(let layer, let layers):
            return "attention capture: layer \(layer) is outside 0..<\(layers)"
        case .discontinuous(let layer, let expected, let got):
            return "attention capture: layer \(layer) expected position \(expected), got \(got) "
                + "(was the cache reset without resetting the capture?)"
        case .shapeMismatch(let message):
            return "attention comparison: \(message)"
        case .noTokens:
            return "attention capture: no tokens to analyse"
        }
    }
}
