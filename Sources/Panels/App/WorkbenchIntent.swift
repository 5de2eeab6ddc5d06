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
    // Train
    case stopTraining
    // Bench
    case setBaseline(run: Int)
    case openPrompt(id: String)
    /// Runs, scoring passes and reloads of the results store.
    case bench(BenchIntent)
    // Attention
    case selectHead(layer: Int, head: Int)
    case selectStatistic(String)
    // Application
    case setTheme(String)
}
