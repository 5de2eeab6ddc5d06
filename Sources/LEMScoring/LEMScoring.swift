/// Namespace for the text scorers: pure functions from prompt and response text to scores.
public enum LEMScoring {
    /// The version of the scoring module's rules, recorded with every stored score.
    public static let version = "1"
}
