import Foundation
import LEMFormats

/// What a training run reports as it goes: the value the UI receives through its callback or
/// stream, and one line of `train-log.jsonl`.
///
/// Steps count completed optimizer iterations. A validation runs *before* the iteration it is
/// scheduled at (mlx_lm validates at iteration 1, every `steps_per_eval`, and the last), so its
/// `step` is the number of iterations completed when it ran: 0 for the first one.
public enum TrainingEvent: Sendable, Equatable {
    /// Averages over the iterations since the previous report.
    case trainReport(TrainReport)
    case validation(step: Int, valLoss: Double, valTime: Double)
    case saved(step: Int, path: String)
    /// A validation beat every earlier one; the adapter it validated was written to `path`.
    case best(step: Int, valLoss: Double, path: String)
    case finished(step: Int, path: String)
    case failed(step: Int, message: String)
    /// Answers to the probe prompts scored after a save (or at step 0, the baseline).
    case probe(ProbeReport)
    /// Something that lets the run go on but likely makes it useless (no validation set, no
    /// token trained, a NaN validation loss, no layer adapted).
    case warning(step: Int, message: String)

    /// A training-loss report (mlx_lm's `on_train_loss_report`).
    public struct TrainReport: Sendable, Equatable {
        public var step: Int
        /// Mean of the per-iteration batch losses since the last report.
        public var loss: Double
        /// The learning rate of the last update.
        public var lr: Double
        public var itPerSec: Double
        /// Loss tokens (unmasked targets) per second since the last report.
        public var tokensPerSec: Double
        /// Loss tokens trained on so far.
        public var trainedTokens: Int
        public var peakMemMB: Double

        /// Creates a report.
        public init(step: Int, loss: Double, lr: Double, itPerSec: Double, tokensPerSec: Double, trainedTokens: Int,
                    peakMemMB: Double) {
            self.step = step
            self.loss = loss
            self.lr = lr
            self.itPerSec = itPerSec
            self.tokensPerSec = tokensPerSec
            self.trainedTokens = trainedTokens
            self.peakMemMB = peakMemMB
        }
    }

    /// The event's JSON object: `{"event": "train" | "validation" | "saved" | "best" | "finished" |
    /// "failed" | "warning" | "probe", "step": ..., ...}` with snake_case fields.
    ///
    /// A probe line is `{"event": "probe", "step", "score" (the mean; null when no answer),
    /// "scorer", "seconds", "answers": [{"id", "prompt", "answer", "score", "tokens"}],
    /// "error" (only when it failed or stopped early)}`.
    public var jsonObject: [String: Any] {
        switch self {
        case .trainReport(let r):
            return ["event": "train", "step": r.step, "loss": r.loss, "lr": r.lr, "it_per_sec": r.itPerSec,
                    "tokens_per_sec": r.tokensPerSec, "trained_tokens": r.trainedTokens, "peak_mem_mb": r.peakMemMB]
        case .validation(let step, let loss, let time):
            return ["event": "validation", "step": step, "val_loss": loss, "val_time": time]
        case .saved(let step, let path): return ["event": "saved", "step": step, "path": path]
        case .best(let step, let loss, let path): return ["event": "best", "step": step, "val_loss": loss, "path": path]
        case .finished(let step, let path): return ["event": "finished", "step": step, "path": path]
        case .failed(let step, let message): return ["event": "failed", "step": step, "error": message]
        case .warning(let step, let message): return ["event": "warning", "step": step, "message": message]
        case .probe(let p):
            var object: [String: Any] = [
                "event": "probe", "step": p.step, "score": p.meanScore, "scorer": p.scorer, "seconds": p.seconds,
                "answers": p.answers.map { a -> [String: Any] in
                    ["id": a.id, "prompt": a.prompt, "answer": a.answer, "score": a.score, "tokens": a.tokens]
                },
            ]
            if let error = p.error { object["error"] = error }
            return object
        }
    }

    /// One line of `train-log.jsonl` (keys sorted, no newline).
    ///
    /// Numbers use Swift's shortest round-trip form, so a log read back gives the same values;
    /// a non-finite number (a diverged loss) is written as `null`.
    public var jsonLine: String { Self.encode(jsonObject) }

    /// JSON text for the values `jsonObject` holds (objects with sorted keys, arrays, numbers,
    /// strings); anything else is `null`.
    static func encode(_ value: Any) -> String {
        switch value {
        case let number as Int: return String(number)
        case let number as Double: return number.isFinite ? "\(number)" : "null"
        case let string as String: return JSONText.quote(string)
        case let array as [Any]: return "[" + array.map(encode).joined(separator: ",") + "]"
        case let object as [String: Any]:
            let fields = object.sorted { $0.key < $1.key }.map { "\(JSONText.quote($0.key)):\(encode($0.value))" }
            return "{" + fields.joined(separator: ",") + "}"
        default: return "null"
        }
    }

    /// Parses one line of `train-log.jsonl`; `place` (`file:line`) names it in errors.
    public init(jsonLine: String, place: String = "train-log.jsonl") throws {
        func bad(_ reason: String) -> DatasetError { .badLine(file: place, line: 0, reason: reason) }
        guard let object = try? JSONSerialization.jsonObject(with: Data(jsonLine.utf8)) as? [String: Any] else {
            throw bad("not a JSON object")
        }
        func number(_ key: String) throws -> Double {
            if object[key] is NSNull { return .nan }
            guard let value = (object[key] as? NSNumber)?.doubleValue else { throw bad("missing number '\(key)'") }
            return value
        }
        func string(_ key: String) throws -> String {
            guard let value = object[key] as? String else { throw bad("missing string '\(key)'") }
            return value
        }
        let step = Int(try number("step"))
        switch try string("event") {
        case "train":
            self = .trainReport(TrainReport(
                step: step, loss: try number("loss"), lr: try number("lr"), itPerSec: try number("it_per_sec"),
                tokensPerSec: try number("tokens_per_sec"), trainedTokens: Int(try number("trained_tokens")),
                peakMemMB: try number("peak_mem_mb")))
        case "validation": self = .validation(step: step, valLoss: try number("val_loss"), valTime: try number("val_time"))
        case "saved": self = .saved(step: step, path: try string("path"))
        case "best": self = .best(step: step, valLoss: try number("val_loss"), path: try string("path"))
        case "finished": self = .finished(step: step, path: try string("path"))
        case "failed": self = .failed(step: step, message: try string("error"))
        case "warning": self = .warning(step: step, message: try string("message"))
        case "probe":
            guard let list = object["answers"] as? [Any] else { throw bad("missing array 'answers'") }
            var answers: [ProbeReport.Answer] = []
            for (i, item) in list.enumerated() {
                guard let a = item as? [String: Any], let id = a["id"] as? String, let prompt = a["prompt"] as? String,
                    let answer = a["answer"] as? String, let score = (a["score"] as? NSNumber)?.doubleValue,
                    let tokens = (a["tokens"] as? NSNumber)?.intValue
                else { throw bad("answers[\(i)]: expected {id, prompt, answer, score, tokens}") }
                answers.append(.init(id: id, prompt: prompt, answer: answer, score: score, tokens: tokens))
            }
            self = .probe(ProbeReport(step: step, scorer: try string("scorer"), answers: answers, seconds: try number("seconds"),
                                      error: object["error"] as? String))
        case let other: throw bad("unknown event '\(other)'")
        }
    }
}
