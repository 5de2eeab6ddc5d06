import LEMCore

/// The changes the chat service makes: every field of `ChatViewModel` is read-only outside
/// Panels and changes through these methods.
extension ChatViewModel {
    /// Shows `path` (with `adapterPath`) as the chat's model; `status` says it is loading.
    public mutating func setModel(
        path: String, adapterPath: String?, name: String, adapterName: String?, status: String?
    ) {
        modelPath = path
        self.adapterPath = adapterPath
        model = name
        adapter = adapterName
        self.status = status
    }

    /// Sets the background-work line above the prompt (nil clears it).
    public mutating func setStatus(_ text: String?) { status = text }

    /// Shows an error below the conversation (nil clears it).
    public mutating func setError(_ text: String?) { error = text }

    /// Replaces the models and/or adapters the settings pickers offer.
    public mutating func setChoices(models: [ChatChoice]? = nil, adapters: [ChatChoice]? = nil) {
        if let models { availableModels = models }
        if let adapters { availableAdapters = adapters }
    }

    /// Offers `choice` in the adapter picker unless a choice with its path is there.
    public mutating func addAdapterChoice(_ choice: ChatChoice) {
        if !availableAdapters.contains(where: { $0.path == choice.path }) { availableAdapters.append(choice) }
    }

    /// Drops the messages from `index` on (to edit message `index` and resend it).
    public mutating func truncate(from index: Int) {
        guard index >= 0, index <= messages.count else { return }
        messages.removeSubrange(index...)
    }

    /// Sets how the kernel is placed around the next prompts.
    public mutating func setKernelMode(_ mode: KernelMode) { kernelMode = mode }

    /// Empties the conversation, its error and the split view.
    public mutating func clear() {
        messages.removeAll()
        error = nil
        comparison = nil
    }

    /// Takes the sampler, system prompt, kernel mode and split-view target of `settings` (the
    /// model and adapter change through `setModel` once they are chosen).
    public mutating func apply(_ settings: ChatSettings) {
        sampler = settings.sampler
        systemPrompt = settings.systemPrompt
        kernelMode = settings.kernelMode
        compareModelPath = settings.compareModelPath
        compareAdapterPath = settings.compareAdapterPath
    }

    /// Opens the split view with two empty, running answers.
    public mutating func beginComparison(leftTitle: String, rightTitle: String) {
        comparison = ChatComparison(leftTitle: leftTitle, rightTitle: rightTitle, left: [], right: [], isRunning: true)
    }

    /// Appends a token to side A (`right` false) or B of the split view; `id` is nil for a
    /// remote model's piece (divergence is then judged on the text).
    public mutating func appendComparison(right: Bool, id: Int?, piece: String) {
        guard comparison != nil else { return }
        if right {
            comparison?.right.append(piece)
            if let id { comparison?.rightIds.append(id) }
        } else {
            comparison?.left.append(piece)
            if let id { comparison?.leftIds.append(id) }
        }
    }

    /// Marks the split view's answers as complete.
    public mutating func endComparison() { comparison?.isRunning = false }

    /// Replaces the list of stored sessions.
    public mutating func setSessions(_ list: [ChatSessionSummary]) { sessions = list }

    /// Records the stored session this conversation is saved to (nil: none yet).
    public mutating func setSession(id: Int64?, title: String?) {
        sessionID = id
        sessionTitle = title
    }

    /// Renames the current session when it is `id`.
    public mutating func renameSession(_ id: Int64, to title: String) {
        if sessionID == id { sessionTitle = title }
    }

    /// Forgets the current session when it is `id` (it was deleted).
    public mutating func forgetSession(_ id: Int64) {
        if sessionID == id { setSession(id: nil, title: nil) }
    }

    /// Shows a stored conversation with its settings (the loaded model stays as it is).
    public mutating func restore(
        messages: [ChatEntry], systemPrompt: String, kernelMode: KernelMode, sampler: SamplingSettings?, id: Int64?,
        title: String
    ) {
        self.messages = messages
        self.systemPrompt = systemPrompt
        self.kernelMode = kernelMode
        if let sampler { self.sampler = sampler }
        setSession(id: id, title: title)
        comparison = nil
        error = nil
    }
}
