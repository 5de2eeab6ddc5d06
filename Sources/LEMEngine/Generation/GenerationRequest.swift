import LEMCore

/// Everything one generation needs besides the model.
public struct GenerationRequest: Sendable {
    /// The prompt, already tokenized (chat template applied if any).
    public var promptIds: [Int]
    /// Sampling settings and the most tokens to sample (greedy, 512 by default).
    public var sampling: SamplingSettings
    /// The most tokens to sample (`sampling.maxTokens`).
    public var maxTokens: Int {
        get { sampling.maxTokens }
        set { sampling.maxTokens = newValue }
    }
    /// Ids that end the run when sampled (normally the model's EOS ids).
    public var stopTokenIds: Set<Int>
    /// Strings that end the run when they appear in the generated text (not emitted).
    public var stopStrings: [String]
    /// Prompt tokens per forward pass during prefill; cancellation is checked between chunks.
    public var prefillChunk: Int
    /// Whether the run may start from a prefix in the generator's prefix cache and leave its own
    /// state there (default true; false computes everything, as a cold measurement needs).
    public var reusePrefix: Bool
    /// Whether the sampled tokens are kept in the prefix cache too, beside the prompt (default
    /// true): worth it when the next prompt continues this one (a chat), where it saves
    /// recomputing the answer; not for independent prompts (benchmark items, judge verdicts),
    /// since keeping them means recomputing them once as a prefill after the run (`Generator`).
    public var keepAnswer: Bool
    /// A computed state the prompt continues (a prompt-cache file): the run starts from it and
    /// `promptIds` are the tokens after it. Its tokens may be unknown (-1, mlx-lm's files); then
    /// nothing of the run goes to the prefix cache.
    public var startingState: KVSnapshot?

    /// Creates a request.
    public init(
        promptIds: [Int], sampling: SamplingSettings = .greedy, stopTokenIds: Set<Int> = [], stopStrings: [String] = [],
        prefillChunk: Int = 128, reusePrefix: Bool = true, keepAnswer: Bool = true
    ) {
        self.reusePrefix = reusePrefix
        self.keepAnswer = keepAnswer
        self.promptIds = promptIds
        self.sampling = sampling
        self.stopTokenIds = stopTokenIds
        self.stopStrings = stopStrings
        self.prefillChunk = prefillChunk
    }
}

/// Errors a generation run can report before starting.
public enum GenerationError: Error, CustomStringConvertible, Equatable {
    case emptyPrompt
    case badParameter(String)

    public var description: String {
        switch self {
        case .emptyPrompt: return "generate: the prompt has no tokens"
        case .badParameter(let message): return "generate: \(message)"
        }
    }
}
