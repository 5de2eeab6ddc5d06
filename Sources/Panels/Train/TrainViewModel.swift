import LEMCore

/// A value at a training step.
public struct LossPoint: Hashable, Sendable {
    public var step: Int
    public var value: Double
}

/// Where a curriculum phase begins on the loss chart.
public struct TrainPhaseMark: Hashable, Sendable {
    /// The iterations of the earlier phases.
    public var step: Int
    /// The phase's place in the curriculum (0-based).
    public var index: Int
    public var name: String
}

/// Everything the train panel shows: loss and learning-rate series and run status.
public struct TrainViewModel: Hashable, Sendable {
    public internal(set) var runName = "no run"
    public internal(set) var trainLoss: [LossPoint] = []
    public internal(set) var validationLoss: [LossPoint] = []
    public internal(set) var learningRate: [LossPoint] = []
    public internal(set) var step = 0
    public internal(set) var totalSteps: Int?
    public internal(set) var tokensPerSecond: Double?
    public internal(set) var trainedTokens: Double?
    public internal(set) var peakMemoryGB: Double?
    public internal(set) var elapsed: Double?
    /// The step at which `elapsed` was reported.
    public internal(set) var elapsedStep: Int?
    public internal(set) var checkpoints: [LossPoint] = []  // step and (unused) value 0; paths in checkpointPaths
    public internal(set) var checkpointPaths: [String] = []
    /// Every probe of the run, in log order.
    public internal(set) var probes: [ProbeReport] = []
    /// The phases of a curriculum run, in order (empty for a single run).
    public internal(set) var phases: [TrainPhaseMark] = []
    /// The curriculum's evaluations (the starting model's and each phase's), in log order; a
    /// newer one of the same phase replaces the older.
    public internal(set) var phaseEvals: [PhaseEvalReport] = []
    public internal(set) var isRunning = false
    /// Whether a validation is running (it can take a while on a big validation set).
    public internal(set) var isValidating = false
    /// The step the shown stretch of training started at (0, or where a resumed run went on).
    public internal(set) var startStep = 0
    public internal(set) var issues: [String] = []
    /// Whether the run is ours (in-process: stop and resume apply) rather than a followed log.
    public internal(set) var isLocalRun = false
    /// The adapter folder of the last in-process run, which resume starts from.
    public internal(set) var adapterFolder: String?
    /// The last run's form values, offered again by the next form.
    public internal(set) var lastRequest: TrainRunRequest?
    /// Installed models offered by the form.
    public internal(set) var availableModels: [ChatChoice] = []
    /// Where the form puts a new run's adapter folder by default (`~/.cache/lem/adapters`).
    public internal(set) var adapterRoot: String?
    /// A background-work line ("loading model…", "stopped: …").
    public internal(set) var status: String?

    /// Creates an empty model.
    public init(runName: String = "no run") { self.runName = runName }

    /// Folds training events (from the trainer or a followed log) into the model.
    public mutating func apply(_ events: [TrainingEvent]) {
        for event in events {
            switch event {
            case .started(let s, let total):
                if total > 0 { totalSteps = total }
                step = max(step, s)
                startStep = s
                isRunning = true
            case .validating:
                isValidating = true
            case .trainReport(let r):
                trainLoss.append(LossPoint(step: r.step, value: r.loss))
                if let lr = r.lr { learningRate.append(LossPoint(step: r.step, value: lr)) }
                step = max(step, r.step)
                if let v = r.tokensPerSec { tokensPerSecond = v }
                if let v = r.trainedTokens { trainedTokens = Double(v) }
                if let v = r.peakMemMB { peakMemoryGB = max(peakMemoryGB ?? 0, v / 1024) }
                if let e = r.elapsed {
                    elapsed = e
                    elapsedStep = r.step
                }
                isRunning = true
            case .validation(let s, let loss, _):
                validationLoss.append(LossPoint(step: s, value: loss))
                isValidating = false
            case .saved(let s, let path):
                checkpoints.append(LossPoint(step: s, value: 0))
                checkpointPaths.append(path)
            case .best:
                break
            case .probe(let p):
                probes.append(p)
            case .phase(let s, let index, let name):
                // A resumed curriculum starts a phase again: the newer mark replaces the older.
                phases.removeAll { $0.index >= index }
                phases.append(TrainPhaseMark(step: s, index: index, name: name))
                phaseEvals.removeAll { ($0.phase ?? -1) >= index }
            case .phaseEval(let e):
                phaseEvals.removeAll { $0.phase == e.phase }
                phaseEvals.append(e)
            case .finished, .failed:
                isRunning = false
                isValidating = false
            case .warning(let s, let message):
                issues.append("warning at iteration \(s): \(message)")
            }
        }
    }

    /// The probes' mean scores (failed probes left out).
    public var probeScores: [LossPoint] {
        probes.compactMap { p in p.meanScore.map { LossPoint(step: p.step, value: $0) } }
    }

    /// The base model of the run shown (the in-process run's model), which "chat with
    /// checkpoint" loads the adapter onto; nil for a followed log (Chat's current model).
    public internal(set) var baseModelPath: String?

    /// The lowest validation loss so far.
    public var bestValidation: LossPoint? { validationLoss.filter { $0.value.isFinite }.min { $0.value < $1.value } }

    /// The estimated seconds left: remaining steps times the mean time per step so far (of the
    /// stretch since `startStep`: a resumed run's clock starts again there).
    public var eta: Double? {
        guard let total = totalSteps, let e = elapsed, let at = elapsedStep, at > startStep, e > 0 else { return nil }
        return Double(max(0, total - step)) * e / Double(at - startStep)
    }

    /// Exponential moving average with bias correction: s_t = α s_{t-1} + (1-α) x_t, divided by
    /// 1-α^t (as TensorBoard-style smoothing). α = 0 returns the points unchanged.
    public static func ema(_ points: [LossPoint], alpha: Double) -> [LossPoint] {
        guard alpha > 0 else { return points }
        var s = 0.0
        var weight = 0.0
        return points.map { p in
            guard p.value.isFinite else { return p }
            s = alpha * s + (1 - alpha) * p.value
            weight = alpha * weight + (1 - alpha)
            return LossPoint(step: p.step, value: s / weight)
        }
    }
}
