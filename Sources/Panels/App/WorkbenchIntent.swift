/// How the system prompt is combined with the LEM kernel when chatting.
public enum KernelMode: String, CaseIterable, Hashable, Sendable {
    /// No kernel: the plain system prompt.
    case none
    /// The kernel as the system prompt.
    case system
    /// The kernel before and after the user's message.
    case sandwich

    /// The next mode in the cycle none → system → sandwich → none.
    public var next: KernelMode {
        let all = Self.allCases
        return all[(all.firstIndex(of: self)! + 1) % all.count]
    }
}

/// Something a panel asks the application to do; LEMTUI turns intents into engine calls.
public enum WorkbenchIntent: Hashable, Sendable {
    // Chat
    case sendPrompt(String)
    case cancelGeneration
    case regenerate
    /// Replace user message `messageIndex` with `text`, drop everything after it and generate again.
    case editAndResend(messageIndex: Int, text: String)
    case setKernelMode(KernelMode)
    /// Generate the last prompt with two configurations side by side.
    case compareLastPrompt
    case clearConversation
    /// Model, adapter, split-view target, sampler, system prompt and kernel mode from the side panel.
    case applyChatSettings(ChatSettings)
    /// Ask for the stored sessions (the list arrives in `ChatViewModel.sessions`).
    case listSessions
    case newSession
    case openSession(Int64)
    case renameSession(Int64, String)
    case deleteSession(Int64)
    /// Write the session as Markdown next to the database and say where.
    case exportSession(Int64)
    // Train
    case stopTraining
    /// Start a run from the form (and an optional YAML config).
    case startTraining(TrainRunRequest)
    /// Start again from the last run's adapter.
    case resumeTraining
    /// Open the Chat panel on this adapter folder or checkpoint file, over `model` (the run's
    /// base model; nil: Chat's current model).
    case chatWithAdapter(String, model: String? = nil)
    // Bench
    case setBaseline(run: Int)
    case openPrompt(id: String)
    /// Open Chat with this prompt in the input and the benchmark's sampling (temperature, max tokens).
    case openInChat(prompt: String, temperature: Double, maxTokens: Int)
    /// Runs, scoring passes and reloads of the results store.
    case bench(BenchIntent)
    // Attention
    case selectHead(layer: Int, head: Int)
    case selectStatistic(String)
    /// Analyse this text's attention; empty: the last chat prompt.
    case analyzeAttention(String)
    /// Analyse a chat turn (user prompt, optional answer) rendered with the chat template.
    case analyzeAttentionTurn(user: String, answer: String?)
    /// Switch the Attention panel between the first run and its difference from the second.
    case toggleAttentionDifference
    // Application
    case setTheme(String)
}
