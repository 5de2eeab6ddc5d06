/// The changes the training service makes: every field of `TrainViewModel` is read-only outside
/// Panels and changes through these methods.
extension TrainViewModel {
    /// A fresh model for a run started in this process from `request`; the model picker's list
    /// carries over.
    public static func localRun(_ request: TrainRunRequest, availableModels: [ChatChoice]) -> TrainViewModel {
        var m = TrainViewModel(runName: "preparing…")
        m.isLocalRun = true
        m.isRunning = true
        m.lastRequest = request
        m.availableModels = availableModels
        m.status = "checking the config and data…"
        return m
    }

    /// Marks the shown run as running again from `request` (a resume): its curves stay and the
    /// resumed iterations extend them.
    public mutating func resume(_ request: TrainRunRequest) {
        isRunning = true
        lastRequest = request
        status = "resuming from the last adapter…"
    }

    /// Names the run and where it writes, once its configuration is known.
    public mutating func describeRun(name: String, baseModel: String, totalSteps: Int, adapterFolder: String) {
        runName = name
        baseModelPath = baseModel
        self.totalSteps = totalSteps
        self.adapterFolder = adapterFolder
    }

    /// Sets the status line (nil clears it).
    public mutating func setStatus(_ text: String?) { status = text }

    /// Offers `path` to "chat with checkpoint" unless it is already offered.
    public mutating func addCheckpoint(step: Int, path: String) {
        guard !checkpointPaths.contains(path) else { return }
        checkpoints.append(LossPoint(step: step, value: 0))
        checkpointPaths.append(path)
    }

    /// Marks the run as no longer running, with a final status line.
    public mutating func end(status text: String) {
        isRunning = false
        status = text
    }

    /// Sets the folder new runs' adapters go to by default.
    public mutating func setAdapterRoot(_ path: String) { adapterRoot = path }

    /// Replaces the models the run form offers.
    public mutating func setAvailableModels(_ models: [ChatChoice]) { availableModels = models }

    /// Adds problems found reading a log.
    public mutating func addIssues(_ lines: [String]) { issues += lines }
}
