/// A value at a training step.
public struct LossPoint: Hashable, Sendable {
    public var step: Int
    public var value: Double

    /// Creates a point.
    public init(step: Int, value: Double) {
        self.step = step
        self.value = value
    }
}

/// Everything the train panel shows: loss and learning-rate series and run status.
public struct TrainViewModel: Hashable, Sendable {
    public var runName = "no run"
    public var trainLoss: [LossPoint] = []
    public var validationLoss: [LossPoint] = []
    public var learningRate: [LossPoint] = []
    public var step = 0
    public var totalSteps: Int?
    public var tokensPerSecond: Double?
    public var trainedTokens: Double?
    public var peakMemoryGB: Double?
    public var elapsed: Double?
    /// The step at which `elapsed` was reported.
    public var elapsedStep: Int?
    public var checkpoints: [LossPoint] = []   // step and (unused) value 0; paths in checkpointPaths
    public var checkpointPaths: [String] = []
    /// Every probe of the run, in log order.
    public var probes: [TrainProbe] = []
    public var isRunning = false
    public var issues: [String] = []
    /// Whether the run is ours (in-process: stop and resume apply) rather than a followed log.
    public var isLocalRun = false
    /// The adapter folder of the last in-process run, which resume starts from.
    public var adapterFolder: String?
    /// The last run's form values, offered again by the next form.
    public var lastRequest: TrainRunRequest?
    /// Installed models offered by the form.
    public var availableModels: [ChatChoice] = []
    /// A background-work line ("loading model…", "stopped: …").
    public var status: String?

    /// Creates an empty model.
    public init(runName: String = "no run") { self.runName = runName }

    /// Folds parsed log records into the model.
    public mutating func apply(_ records: [TrainLogRecord]) {
        for r in records {
            if let t = r.totalSteps { totalSteps = t }
            if let e = r.elapsed, let s = r.step { elapsed = e; elapsedStep = s }
            switch r.type {
            case "train":
                guard let s = r.step, let l = r.loss else { continue }
                trainLoss.append(LossPoint(step: s, value: l))
                if let lr = r.learningRate { learningRate.append(LossPoint(step: s, value: lr)) }
                step = max(step, s)
                if let v = r.tokensPerSecond { tokensPerSecond = v }
                if let v = r.trainedTokens { trainedTokens = v }
                if let v = r.peakMemoryGB { peakMemoryGB = max(peakMemoryGB ?? 0, v) }
                isRunning = true
            case "val":
                guard let s = r.step, let l = r.loss else { continue }
                validationLoss.append(LossPoint(step: s, value: l))
            case "saved":
                checkpoints.append(LossPoint(step: r.step ?? step, value: 0))
                checkpointPaths.append(r.path ?? "")
            case "probe":
                if let p = r.probe { probes.append(p) }
            case "start":
                isRunning = true
            case "end", "finished", "done":
                isRunning = false
            default: break
            }
        }
    }

    /// The probes' mean scores (failed probes left out).
    public var probeScores: [LossPoint] {
        probes.compactMap { p in p.score.map { LossPoint(step: p.step, value: $0) } }
    }

    /// The base model of the run shown (the in-process run's model), which "chat with
    /// checkpoint" loads the adapter onto; nil for a followed log (Chat's current model).
    public var baseModelPath: String?

    /// The lowest validation loss so far.
    public var bestValidation: LossPoint? { validationLoss.filter { $0.value.isFinite }.min { $0.value < $1.value } }

    /// The estimated seconds left: remaining steps times the mean time per step so far.
    public var eta: Double? {
        guard let total = totalSteps, let e = elapsed, let at = elapsedStep, at > 0, e > 0 else { return nil }
        return Double(max(0, total - step)) * e / Double(at)
    }

    /// Exponential moving average with bias correction: s_t = α s_{t-1} + (1-α) x_t, divided by
    /// 1-α^t (as TensorBoard-style smoothing). α = 0 returns the points unchanged.
    public static func ema(_ points: [LossPoint], alpha: Double) -> [LossPoint] {
        guard alpha > 0 else { return points }
        var s = 0.0, weight = 0.0
        return points.map { p in
            guard p.value.isFinite else { return p }
            s = alpha * s + (1 - alpha) * p.value
            weight = alpha * weight + (1 - alpha)
            return LossPoint(step: p.step, value: s / weight)
        }
    }
}
