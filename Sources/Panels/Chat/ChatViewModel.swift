import LEMCore

extension TurnStats {
    /// `12+34 tok · 250 tok/s prompt · 41.2 tok/s gen`.
    public var summary: String {
        "\(promptTokens)+\(generatedTokens) tok · \(Fmt.fixed(promptTokensPerSecond, 0)) tok/s prompt · \(Fmt.fixed(generationTokensPerSecond, 1)) tok/s gen"
    }
}

/// One message of the conversation as the panel shows it: the message, and how its generation
/// went.
public struct ChatEntry: Hashable, Sendable {
    public var role: ChatRole
    public var text: String
    public var stats: TurnStats?
    public var isStreaming: Bool
    public var wasCancelled: Bool

    /// Creates a message.
    public init(
        role: ChatRole, text: String, stats: TurnStats? = nil, isStreaming: Bool = false, wasCancelled: Bool = false
    ) {
        self.role = role
        self.text = text
        self.stats = stats
        self.isStreaming = isStreaming
        self.wasCancelled = wasCancelled
    }
}

/// Two answers to the same prompt, tokenised, for the side-by-side view.
public struct ChatComparison: Hashable, Sendable {
    public var leftTitle: String
    public var rightTitle: String
    public var left: [String]
    public var right: [String]
    /// The token ids of each side, when known; divergence is judged on ids then (two ids can
    /// decode to the same text).
    public var leftIds: [Int] = []
    public var rightIds: [Int] = []
    /// Whether the answers are still being generated.
    public var isRunning = false

    /// Whether both sides' token ids are known (two local models).
    var hasIds: Bool {
        leftIds.count == left.count && rightIds.count == right.count && !(leftIds.isEmpty && rightIds.isEmpty)
    }

    /// The index of side A's first token where the answers differ (nil when both are equal so
    /// far); while running, a side that is merely shorter does not count as diverging.
    public var firstDivergence: Int? { divergence(right: false) }

    /// The index of the first differing token on one side. With ids on both sides it is the
    /// first index whose ids differ (the same on both sides). Otherwise (a remote side, whose
    /// pieces need not be the other side's tokens) it is the piece holding the first differing
    /// character of the text.
    public func divergence(right side: Bool) -> Int? {
        if hasIds {
            for i in 0..<min(leftIds.count, rightIds.count) where leftIds[i] != rightIds[i] { return i }
            return left.count == right.count || isRunning ? nil : min(left.count, right.count)
        }
        let a = Array(left.joined().unicodeScalars)
        let b = Array(right.joined().unicodeScalars)
        var p = 0
        while p < a.count, p < b.count, a[p] == b[p] { p += 1 }
        if p == a.count, p == b.count { return nil }
        if isRunning, p == a.count || p == b.count { return nil }
        var end = 0
        let pieces = side ? right : left
        for (i, piece) in pieces.enumerated() {
            end += piece.unicodeScalars.count
            if end > p { return i }
        }
        return pieces.count
    }
}

/// Everything the chat panel shows: the conversation, generation state and the settings.
public struct ChatViewModel: Hashable, Sendable {
    public internal(set) var messages: [ChatEntry] = []
    public internal(set) var model: String = "no model"
    public internal(set) var adapter: String?
    public internal(set) var sampler = SamplingSettings.chat
    public internal(set) var systemPrompt: String = ""
    public internal(set) var kernelMode: KernelMode = .none
    public internal(set) var comparison: ChatComparison?
    public internal(set) var error: String?
    /// The loaded model's path and adapter path (nil before anything is loaded / no adapter).
    public internal(set) var modelPath: String?
    public internal(set) var adapterPath: String?
    /// What the split view compares the current configuration with.
    public internal(set) var compareModelPath: String?
    public internal(set) var compareAdapterPath: String?
    /// Installed models and adapter folders offered by the settings pickers.
    public internal(set) var availableModels: [ChatChoice] = []
    public internal(set) var availableAdapters: [ChatChoice] = []
    /// A background-work status line ("loading SmolLM2…"), shown above the prompt.
    public internal(set) var status: String?
    /// Stored sessions for the sessions dialog, newest first.
    public internal(set) var sessions: [ChatSessionSummary] = []
    /// The stored session this conversation is saved to (nil until the first answer is saved).
    public internal(set) var sessionID: Int64?
    public internal(set) var sessionTitle: String?

    /// Creates an empty conversation.
    public init(model: String = "no model", adapter: String? = nil) {
        self.model = model
        self.adapter = adapter
    }

    /// Whether an answer is streaming.
    public var isGenerating: Bool { messages.last?.isStreaming ?? false }

    /// Whether an answer or the split view's answers are being generated: a new prompt is
    /// refused then (one generation at a time).
    public var isAnswering: Bool { isGenerating || comparison?.isRunning == true }

    /// What a prompt sent while `isAnswering` is told.
    public static let busyNotice = "an answer is still being generated: wait for it, or Esc stops it"

    /// Appends the user's message and an empty streaming answer.
    public mutating func beginTurn(prompt: String) {
        error = nil
        messages.append(ChatEntry(role: .user, text: prompt))
        messages.append(ChatEntry(role: .assistant, text: "", isStreaming: true))
    }

    /// Appends streamed text to the answer in progress.
    public mutating func appendToken(_ text: String) {
        guard let i = messages.indices.last, messages[i].isStreaming else { return }
        messages[i].text += text
    }

    /// Ends the answer in progress with its statistics.
    public mutating func finishTurn(stats: TurnStats?, cancelled: Bool = false) {
        guard let i = messages.indices.last, messages[i].isStreaming else { return }
        messages[i].isStreaming = false
        messages[i].stats = stats
        messages[i].wasCancelled = cancelled
    }

    /// Ends the answer in progress with an error.
    public mutating func failTurn(_ message: String) {
        finishTurn(stats: nil, cancelled: true)
        error = message
    }

    /// Drops the last answer so it can be generated again; returns its prompt.
    public mutating func dropLastAnswer() -> String? {
        guard let last = messages.last, last.role == .assistant, !last.isStreaming else { return nil }
        messages.removeLast()
        guard let user = messages.last, user.role == .user else { return nil }
        messages.removeLast()
        return user.text
    }

    /// The index of the last user message.
    public var lastUserIndex: Int? { messages.lastIndex { $0.role == .user } }
}
