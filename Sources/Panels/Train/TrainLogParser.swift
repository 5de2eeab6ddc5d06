import Foundation

/// One line of a training log (`train-log.jsonl`), with whatever fields it had.
public struct TrainLogRecord: Hashable, Sendable {
    /// `train`, `val`, `saved`, `probe`, `start`, `end`, or another type (kept, ignored by the chart).
    public var type: String
    public var step: Int?
    public var loss: Double?
    public var learningRate: Double?
    public var tokensPerSecond: Double?
    public var trainedTokens: Double?
    public var peakMemoryGB: Double?
    public var totalSteps: Int?
    /// Seconds since training started.
    public var elapsed: Double?
    public var path: String?
    public var message: String?
    /// A `probe` line's scores and answers.
    public var probe: TrainProbe?

    /// Creates a record of the given type.
    public init(type: String, step: Int? = nil, loss: Double? = nil) {
        self.type = type
        self.step = step
        self.loss = loss
    }
}

/// A line of the log that could not be read: where it is and why.
public struct TrainLogIssue: Hashable, Sendable, CustomStringConvertible {
    public var source: String
    public var line: Int
    public var reason: String
    public var description: String { "\(source):\(line): \(reason)" }
}

/// Reads training-log JSON lines tolerantly.
///
/// Each line is one JSON object. Recognised fields (aliases in brackets): `type`
/// (`train`|`val`|`saved`|`start`|`end`|…; inferred as `val` when `val_loss` is present, else
/// `train` when a loss is), `step` [`iter`, `iteration`], `loss` [`train_loss`, `val_loss`],
/// `lr` [`learning_rate`], `tokens_per_sec` [`tokens_per_second`, `tok_per_sec`],
/// `trained_tokens` [`tokens`], `peak_memory_gb` [`peak_mem`, `peak_memory`; `peak_mem_mb` in MB], `total_steps`
/// [`iters`, `total`], `elapsed` [`time`] (seconds since start), `path`, `message` [`error`].
/// A `probe` line (written by `lem train --probe-every`) carries `score` (the mean, or null),
/// `scorer`, `seconds`, `error` and `answers` (`[{id, prompt, answer, score, tokens}]`).
/// Numbers may be JSON numbers or numeric strings. Blank lines are skipped; a bad line becomes an
/// issue naming the file and line, and reading continues.
public enum TrainLogParser {
    /// Parses `lines`, numbering them from `firstLine` (1-based) for issues.
    public static func parse<S: StringProtocol>(_ lines: [S], source: String, firstLine: Int = 1) -> (records: [TrainLogRecord], issues: [TrainLogIssue]) {
        var records: [TrainLogRecord] = []
        var issues: [TrainLogIssue] = []
        for (i, raw) in lines.enumerated() {
            let text = raw.trimmed
            if text.isEmpty { continue }
            let n = firstLine + i
            guard let obj = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
                issues.append(TrainLogIssue(source: source, line: n, reason: "expected a JSON object, got '\(DisplayWidth.truncate(text, to: 40))'"))
                continue
            }
            func num(_ keys: String...) -> Double? {
                for k in keys {
                    if let v = obj[k] as? NSNumber, !(v is Bool) { return v.doubleValue }
                    if let v = obj[k] as? Double { return v }
                    if let s = obj[k] as? String, let v = Double(s) { return v }
                }
                return nil
            }
            var type = (obj["type"] as? String)?.lowercased() ?? (obj["event"] as? String)?.lowercased()
            if type == nil {
                if obj["val_loss"] != nil { type = "val" } else if obj["loss"] != nil || obj["train_loss"] != nil { type = "train" }
            }
            guard let kind = type else {
                issues.append(TrainLogIssue(source: source, line: n, reason: "no 'type' field and no loss to infer it from"))
                continue
            }
            var r = TrainLogRecord(type: kind == "validation" ? "val" : kind)
            if let s = num("step", "iter", "iteration") { r.step = Int(s) }
            r.loss = r.type == "val" ? num("val_loss", "loss") : num("loss", "train_loss")
            r.learningRate = num("lr", "learning_rate")
            r.tokensPerSecond = num("tokens_per_sec", "tokens_per_second", "tok_per_sec")
            r.trainedTokens = num("trained_tokens", "tokens")
            r.peakMemoryGB = num("peak_memory_gb", "peak_mem", "peak_memory") ?? num("peak_mem_mb").map { $0 / 1024 }
            if let t = num("total_steps", "iters", "total") { r.totalSteps = Int(t) }
            r.elapsed = num("elapsed", "time")
            r.path = obj["path"] as? String
            r.message = obj["message"] as? String ?? obj["error"] as? String
            if r.type == "probe" {
                guard let step = r.step else {
                    issues.append(TrainLogIssue(source: source, line: n, reason: "probe record needs 'step'"))
                    continue
                }
                var answers: [TrainProbe.Answer] = []
                var bad: Int?
                for (j, item) in ((obj["answers"] as? [Any]) ?? []).enumerated() {
                    guard let a = item as? [String: Any], let answer = a["answer"] as? String else { bad = j; break }
                    let score = (a["score"] as? NSNumber).map(\.doubleValue)
                    answers.append(TrainProbe.Answer(id: a["id"] as? String ?? "#\(j + 1)", prompt: a["prompt"] as? String ?? "",
                                                     answer: answer, score: score, tokens: (a["tokens"] as? NSNumber)?.intValue))
                }
                if let j = bad {
                    issues.append(TrainLogIssue(source: source, line: n, reason: "probe answers[\(j)] needs an 'answer' string"))
                    continue
                }
                let mean = num("score").flatMap { $0.isFinite ? $0 : nil }
                r.probe = TrainProbe(step: step, score: mean, scorer: obj["scorer"] as? String, answers: answers,
                                     error: obj["error"] as? String, seconds: num("seconds"))
            }
            if (r.type == "train" || r.type == "val"), r.loss == nil || r.step == nil {
                issues.append(TrainLogIssue(source: source, line: n, reason: "\(r.type) record needs 'step' and 'loss'"))
                continue
            }
            if let l = r.loss, !l.isFinite {
                issues.append(TrainLogIssue(source: source, line: n, reason: "loss is not finite"))
            }
            records.append(r)
        }
        return (records, issues)
    }

    /// Splits a growing file's new bytes into complete lines, keeping a trailing partial line in
    /// `pending` for the next call (so a half-written line is never parsed).
    public static func completeLines(appending chunk: String, pending: inout String) -> [String] {
        let text = pending + chunk
        var parts = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        pending = parts.removeLast()
        return parts
    }
}
