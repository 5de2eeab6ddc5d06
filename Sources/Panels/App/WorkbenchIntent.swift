import LEMCore

/// Something a panel asks the application to do, addressed to the one service that handles it.
public enum WorkbenchIntent: Hashable, Sendable {
    case chat(ChatIntent)
    case train(TrainIntent)
    case bench(BenchIntent)
    case attention(AttentionIntent)
    case app(AppIntent)
}

/// What the chat service is asked to do.
public enum ChatIntent: Hashable, Sendable {
    case send(String)
    case cancel
    case regenerate
    /// Replace user message `messageIndex` with `text`, drop everything after it and generate again.
    case editAndResend(messageIndex: Int, text: String)
    case setKernelMode(KernelMode)
    /// Generate the last prompt with two configurations side by side.
    case compareLastPrompt
    case clear
    /// Model, adapter, split-view target, sampler, system prompt and kernel mode from the side panel.
    case applySettings(ChatSettings)
    /// Chat on this adapter folder or checkpoint file over `model` (a run's base model; nil:
    /// Chat's current model).
    case useAdapter(String, model: String?)
    /// Ask for the stored sessions (the list arrives in `ChatViewModel.sessions`).
    case listSessions
    case newSession
    case openSession(Int64)
    case renameSession(Int64, String)
    case deleteSession(Int64)
    /// Write the session as Markdown next to the database and say where.
    case exportSession(Int64)
}

/// What the training service is asked to do.
public enum TrainIntent: Hashable, Sendable {
    /// Start a run from the form (and an optional YAML config).
    case start(TrainRunRequest)
    /// Read this YAML config and show its values in the form (`TrainPanel.showConfig`).
    case readConfig(String)
    case stop
    /// Start again from the last run's adapter.
    case resume
}

/// What the attention service is asked to do.
public enum AttentionIntent: Hashable, Sendable {
    case selectHead(layer: Int, head: Int)
    case selectStatistic(String)
    /// Analyse this text's attention; empty: the last chat prompt.
    case analyze(String)
    /// Analyse a chat turn (user prompt, optional answer) rendered with the chat template.
    case analyzeTurn(user: String, answer: String?)
    /// Switch between the first run and its difference from the second.
    case toggleDifference
}

/// What the application itself is asked to do.
public enum AppIntent: Hashable, Sendable {
    /// Switch to the named theme; empty: the next one.
    case setTheme(String)
}

/// The four panels, in tab order.
public enum PanelID: Int, CaseIterable, Hashable, Sendable {
    case chat, train, bench, attention

    /// The tab title.
    public var title: String {
        switch self {
        case .chat: "Chat"
        case .train: "Train"
        case .bench: "Bench"
        case .attention: "Attention"
        }
    }

    /// The key map context of the panel's actions (`chat` for `chat.send`).
    public var keyContext: String { title.lowercased() }

    /// The panel after this one, wrapping around.
    public var next: PanelID { PanelID(rawValue: (rawValue + 1) % Self.allCases.count)! }
    /// The panel before this one, wrapping around.
    public var previous: PanelID { PanelID(rawValue: (rawValue + Self.allCases.count - 1) % Self.allCases.count)! }
}
