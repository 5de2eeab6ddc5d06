/// Token counts and speeds of one generated chat turn: what the chat panel shows under an answer
/// and what a stored chat session keeps with it.
public struct TurnStats: Hashable, Sendable {
    public var promptTokens: Int
    public var generatedTokens: Int
    public var promptTokensPerSecond: Double
    public var generationTokensPerSecond: Double

    /// Creates turn statistics.
    public init(
        promptTokens: Int, generatedTokens: Int, promptTokensPerSecond: Double, generationTokensPerSecond: Double
    ) {
        self.promptTokens = promptTokens
        self.generatedTokens = generatedTokens
        self.promptTokensPerSecond = promptTokensPerSecond
        self.generationTokensPerSecond = generationTokensPerSecond
    }
}
