/// What a training run reports as it goes: the value the UI receives through its callback, and
/// one line of `train-log.jsonl` (`jsonLine`, read back by `TrainLogParser`).
///
/// Steps count completed optimizer iterations. A validation runs *before* the iteration it is
/// scheduled at (mlx_lm validates at iteration 1, every `steps_per_eval`, and the last), so its
/// `step` is the number of iterations completed when it ran: 0 for the first one.
public enum TrainingEvent: Sendable, Hashable {
    /// The run begins at `step` (0, or the step a resumed run continues from) of `totalSteps`.
    case started(step: Int, totalSteps: Int)
    /// Averages over the iterations since the previous report.
    case trainReport(TrainReport)
    /// A validation starts (it can take a while): `step` as for `validation`.
    case validating(step: Int)
    case validation(step: Int, valLoss: Double, valTime: Double?)
    case saved(step: Int, path: String)
    /// A validation beat every earlier one; the adapter it validated was written to `path`.
    case best(step: Int, valLoss: Double, path: String)
    case finished(step: Int, path: String)
    /// The run stopped early: an error, or `cancelled` after a stop request (the adapter is saved).
    case failed(step: Int, message: String)
    /// Answers to the probe prompts scored after a save (or at step 0, the baseline).
    case probe(ProbeReport)
    /// Something that lets the run go on but likely makes it useless (no token trained, a NaN
    /// validation loss).
    case warning(step: Int, message: String)
    /// A curriculum phase begins at `step` (the iterations of the earlier phases): phase `index`
    /// (0-based) of a curriculum, named `name`. Only a curriculum's combined log has these.
    case phase(step: Int, index: Int, name: String)
    /// A curriculum evaluation finished: a phase's adapter (or the starting model) answered its
    /// `eval:` benchmark and the answers were scored. Only a curriculum's combined log has these.
    case phaseEval(PhaseEvalReport)

    /// The message of a run stopped on request.
    public static let cancelledMessage = "cancelled"

    /// A training-loss report (mlx_lm's `on_train_loss_report`). `lem train` fills every field;
    /// logs written by other tools may leave the optional ones out.
    public struct TrainReport: Sendable, Hashable {
        public var step: Int
        /// Mean of the per-iteration batch losses since the last report.
        public var loss: Double
        /// The learning rate of the last update.
        public var lr: Double?
        public var itPerSec: Double?
        /// Loss tokens (unmasked targets) per second since the last report.
        public var tokensPerSec: Double?
        /// Loss tokens trained on so far.
        public var trainedTokens: Int?
        public var peakMemMB: Double?
        /// Seconds since the run started.
        public var elapsed: Double?

        /// Creates a report.
        public init(
            step: Int, loss: Double, lr: Double? = nil, itPerSec: Double? = nil, tokensPerSec: Double? = nil,
            trainedTokens: Int? = nil, peakMemMB: Double? = nil, elapsed: Double? = nil
        ) {
            self.step = step
            self.loss = loss
            self.lr = lr
            self.itPerSec = itPerSec
            self.tokensPerSec = tokensPerSec
            self.trainedTokens = trainedTokens
            self.peakMemMB = peakMemMB
            self.elapsed = elapsed
        }
    }

    /// The step the event belongs to.
    public var step: Int {
        switch self {
        case .started(let s, _), .validating(let s), .validation(let s, _, _), .saved(let s, _), .best(let s, _, _),
            .finished(let s, _), .failed(let s, _), .warning(let s, _), .phase(let s, _, _):
            s
        case .trainReport(let r): r.step
        case .probe(let p): p.step
        case .phaseEval(let e): e.step
        }
    }

    /// The event's JSON object: `{"event": "started" | "train" | "validating" | "validation" | "saved" |
    /// "best" | "finished" | "failed" | "warning" | "probe" | "phase" | "phase_eval", "step": …, …}` with snake_case
    /// fields; absent optional fields are left out, a non-finite number is `null`. A phase line is
    /// `{"event": "phase", "step", "index", "name"}`.
    ///
    /// A phase evaluation line is `{"event": "phase_eval", "step", "index" (left out for the
    /// starting model), "name", "run", "benchmark", "answers", "scores": [{"scorer", "dimension",
    /// "mean" (null when no answer has a value), "count"}]}`.
    ///
    /// A probe line is `{"event": "probe", "step", "score" (the mean; null when no answer),
    /// "scorer", "seconds", "answers": [{"id", "prompt", "answer", "score", "tokens"}],
    /// "error" (only when it failed or stopped early)}`.
    public var json: JSONValue {
        var o: JSONObject = ["event": .string(name), "step": .int(step)]
        func number(_ key: String, _ value: Double?) {
            if let value { o[key] = value.isFinite ? .double(value) : .null }
        }
        switch self {
        case .started(_, let total): o["total_steps"] = .int(total)
        case .trainReport(let r):
            number("loss", r.loss)
            number("lr", r.lr)
            number("it_per_sec", r.itPerSec)
            number("tokens_per_sec", r.tokensPerSec)
            if let t = r.trainedTokens { o["trained_tokens"] = .int(t) }
            number("peak_mem_mb", r.peakMemMB)
            number("elapsed", r.elapsed)
        case .validating: break
        case .validation(_, let loss, let time):
            number("val_loss", loss)
            number("val_time", time)
        case .saved(_, let path), .finished(_, let path): o["path"] = .string(path)
        case .best(_, let loss, let path):
            number("val_loss", loss)
            o["path"] = .string(path)
        case .failed(_, let message): o["error"] = .string(message)
        case .warning(_, let message): o["message"] = .string(message)
        case .phase(_, let index, let name):
            o["index"] = .int(index)
            o["name"] = .string(name)
        case .probe(let p):
            o["score"] = p.meanScore.map { .double($0) } ?? .null
            o["scorer"] = p.scorer.map { .string($0) } ?? .null
            number("seconds", p.seconds)
            o["answers"] = .array(
                p.answers.map { a in
                    var answer: JSONObject = [
                        "id": .string(a.id), "prompt": .string(a.prompt), "answer": .string(a.answer)
                    ]
                    answer["score"] = a.score.map { $0.isFinite ? .double($0) : .null } ?? .null
                    answer["tokens"] = a.tokens.map { .int($0) } ?? .null
                    return .object(answer)
                })
            if let error = p.error { o["error"] = .string(error) }
        case .phaseEval(let e):
            if let index = e.phase { o["index"] = .int(index) }
            o["name"] = .string(e.name)
            o["run"] = .string(e.run)
            o["benchmark"] = .string(e.benchmark)
            o["answers"] = .int(e.answers)
            o["scores"] = .array(
                e.scores.map { s in
                    var score: JSONObject = ["scorer": .string(s.scorer), "count": .int(s.count)]
                    if let d = s.dimension { score["dimension"] = .string(d) }
                    score["mean"] = s.mean.map { $0.isFinite ? .double($0) : .null } ?? .null
                    return .object(score)
                })
        }
        return .object(o)
    }

    /// One line of `train-log.jsonl` (keys sorted, no newline). Numbers use Swift's shortest
    /// round-trip form, so a log read back gives the same values.
    public var jsonLine: String { json.jsonText(sortedKeys: true) }

    /// The `event` field's value.
    public var name: String {
        switch self {
        case .started: "started"
        case .trainReport: "train"
        case .validating: "validating"
        case .validation: "validation"
        case .saved: "saved"
        case .best: "best"
        case .finished: "finished"
        case .failed: "failed"
        case .warning: "warning"
        case .probe: "probe"
        case .phase: "phase"
        case .phaseEval: "phase_eval"
        }
    }

    /// Parses one line of `train-log.jsonl` strictly: the error names `source` and `line`.
    public init(jsonLine: String, source: String = "train-log.jsonl", line: Int = 1) throws(TrainLogIssue) {
        switch TrainLogParser.event(jsonLine, source: source, line: line) {
        case .event(let event, _): self = event
        case .skipped: throw TrainLogIssue(source: source, line: line, reason: "not a training event")
        case .issue(let issue): throw issue
        }
    }
}

extension TrainingEvent {
    /// The event moved `offset` iterations later, as a curriculum's combined log shows a phase's
    /// events after the earlier phases'; a start also gets the curriculum's `totalSteps`.
    public func shifted(by offset: Int, totalSteps: Int) -> TrainingEvent {
        switch self {
        case .started(let s, _): return .started(step: s + offset, totalSteps: totalSteps)
        case .trainReport(var r):
            r.step += offset
            return .trainReport(r)
        case .validating(let s): return .validating(step: s + offset)
        case .validation(let s, let loss, let time): return .validation(step: s + offset, valLoss: loss, valTime: time)
        case .saved(let s, let path): return .saved(step: s + offset, path: path)
        case .best(let s, let loss, let path): return .best(step: s + offset, valLoss: loss, path: path)
        case .finished(let s, let path): return .finished(step: s + offset, path: path)
        case .failed(let s, let message): return .failed(step: s + offset, message: message)
        case .warning(let s, let message): return .warning(step: s + offset, message: message)
        case .phase(let s, let index, let name): return .phase(step: s + offset, index: index, name: name)
        case .probe(var p):
            p.step += offset
            return .probe(p)
        case .phaseEval(var e):
            e.step += offset
            return .phaseEval(e)
        }
    }
}
