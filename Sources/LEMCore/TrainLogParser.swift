/// A line of a training log that could not be read (or read with a warning): where and why.
public struct TrainLogIssue: Error, Hashable, Sendable, CustomStringConvertible {
    public var source: String
    public var line: Int
    public var reason: String

    public var description: String { "\(source):\(line): \(reason)" }
}

/// The one reader of `train-log.jsonl`: `lem train`'s own lines and, tolerantly, logs written
/// by other tools.
///
/// Each line is one JSON object. The kind is `event` or `type` (`started`/`start`, `train`,
/// `validating`, `validation`/`val`, `saved`, `best`, `finished`/`end`/`done`, `failed`/`error`, `warning`, `probe`,
/// `phase` (a curriculum phase begins: `index`, `name`), `phase_eval` (a phase's evaluation scores);
/// without one, `val` when `val_loss` is present, else `train` when a loss is; other kinds are
/// skipped). Fields, aliases in brackets: `step` [`iter`, `iteration`], `loss` [`train_loss`;
/// `val_loss` for validations], `lr` [`learning_rate`], `it_per_sec`, `tokens_per_sec`
/// [`tokens_per_second`, `tok_per_sec`], `trained_tokens` [`tokens`], `peak_mem_mb`
/// [`peak_memory_gb`, `peak_mem`, `peak_memory` in GB], `total_steps` [`iters`, `total`],
/// `elapsed` [`time`], `val_time`, `path`, `error` [`message`]; numbers may be JSON numbers or
/// numeric strings, `null` is a non-finite number. A probe line carries `scorer`, `seconds`,
/// `error` and `answers` (`[{id, prompt, answer, score, tokens}]`). A phase evaluation line carries
/// `index` (absent for the starting model), `name`, `run`, `benchmark`, `answers` (a count) and
/// `scores` (`[{scorer, dimension, mean, count}]`).
public enum TrainLogParser {
    /// What one line holds.
    public enum Line: Sendable, Equatable {
        /// An event, with a warning when a value is suspicious (a non-finite loss).
        case event(TrainingEvent, warning: TrainLogIssue?)
        /// A blank line or a kind this reader does not chart.
        case skipped
        /// A line that could not be read.
        case issue(TrainLogIssue)
    }

    /// Parses `lines`, numbering them from `firstLine` (1-based): the events, and an issue per
    /// bad line (reading continues after it) or suspicious value.
    public static func parse<S: StringProtocol>(_ lines: [S], source: String, firstLine: Int = 1)
        -> (events: [TrainingEvent], issues: [TrainLogIssue])
    {
        var events: [TrainingEvent] = []
        var issues: [TrainLogIssue] = []
        for (i, text) in lines.enumerated() {
            switch event(String(text), source: source, line: firstLine + i) {
            case .event(let e, let warning):
                events.append(e)
                if let warning { issues.append(warning) }
            case .skipped: break
            case .issue(let issue): issues.append(issue)
            }
        }
        return (events, issues)
    }

    /// Splits a growing file's new text into complete lines, keeping a trailing partial line in
    /// `pending` for the next call (so a half-written line is never parsed).
    public static func completeLines(appending chunk: String, pending: inout String) -> [String] {
        let text = pending + chunk
        var parts = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        pending = parts.removeLast()
        return parts
    }

    /// Reads one line.
    public static func event(_ text: String, source: String, line: Int) -> Line {
        func issue(_ reason: String) -> Line { .issue(TrainLogIssue(source: source, line: line, reason: reason)) }
        let trimmed = text.trimmingWhitespace
        if trimmed.isEmpty { return .skipped }
        guard let value = try? JSONValue.parse(trimmed), let o = value.object else {
            return issue("expected a JSON object, got '\(trimmed.prefix(40))'")
        }
        func number(_ keys: String...) -> Double? {
            for k in keys {
                switch o[k] {
                case .int(let i)?: return Double(i)
                case .double(let d)?: return d
                case .string(let s)?: if let d = Double(s) { return d }
                case .null?: return .nan
                default: continue
                }
            }
            return nil
        }
        func integer(_ keys: String...) -> Int? {
            for k in keys {
                if let d = number(k), d.isFinite, abs(d) < 9e15 { return Int(d) }
            }
            return nil
        }
        let declared = (o["event"]?.string ?? o["type"]?.string)?.lowercased()
        let kind =
            declared ?? (o["val_loss"] != nil ? "val" : (o["loss"] != nil || o["train_loss"] != nil ? "train" : nil))
        guard let kind else { return issue("no 'event' or 'type' field and no loss to infer it from") }
        let step = integer("step", "iter", "iteration")
        let path = o["path"]?.string ?? ""
        let message = o["error"]?.string ?? o["message"]?.string
        switch kind {
        case "started", "start":
            return .event(
                .started(step: step ?? 0, totalSteps: integer("total_steps", "iters", "total") ?? 0), warning: nil)
        case "train":
            guard let step, let loss = number("loss", "train_loss") else {
                return issue("train record needs 'step' and 'loss'")
            }
            let memory = number("peak_mem_mb") ?? number("peak_memory_gb", "peak_mem", "peak_memory").map { $0 * 1024 }
            let report = TrainingEvent.TrainReport(
                step: step, loss: loss, lr: number("lr", "learning_rate"), itPerSec: number("it_per_sec"),
                tokensPerSec: number("tokens_per_sec", "tokens_per_second", "tok_per_sec"),
                trainedTokens: integer("trained_tokens", "tokens"), peakMemMB: memory,
                elapsed: number("elapsed", "time"))
            return .event(.trainReport(report), warning: finiteWarning(loss, source: source, line: line))
        case "validating": return .event(.validating(step: step ?? 0), warning: nil)
        case "validation", "val":
            guard let step, let loss = number("val_loss", "loss") else {
                return issue("validation record needs 'step' and 'val_loss'")
            }
            return .event(
                .validation(step: step, valLoss: loss, valTime: number("val_time")),
                warning: finiteWarning(loss, source: source, line: line))
        case "saved": return .event(.saved(step: step ?? 0, path: path), warning: nil)
        case "best":
            guard let loss = number("val_loss", "loss") else { return issue("best record needs 'val_loss'") }
            return .event(.best(step: step ?? 0, valLoss: loss, path: path), warning: nil)
        case "finished", "end", "done": return .event(.finished(step: step ?? 0, path: path), warning: nil)
        case "failed", "error": return .event(.failed(step: step ?? 0, message: message ?? "failed"), warning: nil)
        case "warning": return .event(.warning(step: step ?? 0, message: message ?? ""), warning: nil)
        case "phase":
            guard let step, let index = integer("index"), index >= 0, let name = o["name"]?.string else {
                return issue("phase record needs 'step', 'index' (0 or more) and 'name'")
            }
            return .event(.phase(step: step, index: index, name: name), warning: nil)
        case "probe":
            guard let step else { return issue("probe record needs 'step'") }
            var answers: [ProbeReport.Answer] = []
            for (j, item) in (o["answers"]?.array ?? []).enumerated() {
                guard let a = item.object, let answer = a["answer"]?.string else {
                    return issue("probe answers[\(j)] needs an 'answer' string")
                }
                let score = a["score"]?.double
                answers.append(
                    ProbeReport.Answer(
                        id: a["id"]?.string ?? "#\(j + 1)", prompt: a["prompt"]?.string ?? "", answer: answer,
                        score: score.flatMap { $0.isFinite ? $0 : nil }, tokens: a["tokens"]?.int))
            }
            let report = ProbeReport(
                step: step, scorer: o["scorer"]?.string, answers: answers,
                seconds: number("seconds").flatMap { $0.isFinite ? $0 : nil }, error: message)
            return .event(.probe(report), warning: nil)
        case "phase_eval":
            guard let step else { return issue("phase_eval record needs 'step'") }
            return phaseEval(o, step: step, source: source, line: line)
        default:
            return .skipped
        }
    }

    /// Reads a `phase_eval` line's fields (its `step` read already).
    private static func phaseEval(_ o: JSONObject, step: Int, source: String, line: Int) -> Line {
        func issue(_ reason: String) -> Line {
            .issue(TrainLogIssue(source: source, line: line, reason: "phase_eval record: " + reason))
        }
        func count(_ value: JSONValue?) -> Int? { value?.int.flatMap { $0 >= 0 ? $0 : nil } }
        guard let name = o["name"]?.string else { return issue("needs a 'name' string") }
        var index: Int?
        if let given = o["index"], given != .null {
            guard let i = count(given) else { return issue("'index' must be a whole number, 0 or more") }
            index = i
        }
        guard let list = o["scores"]?.array else { return issue("needs a 'scores' list") }
        var scores: [PhaseEvalReport.Score] = []
        for (j, item) in list.enumerated() {
            guard let s = item.object, let scorer = s["scorer"]?.string, let n = count(s["count"]) else {
                return issue("scores[\(j)] needs a 'scorer' string and a 'count' (0 or more)")
            }
            let mean = s["mean"]?.double
            guard mean != nil || s["mean"] == nil || s["mean"] == .null else {
                return issue("scores[\(j)].mean must be a number or null")
            }
            scores.append(.init(scorer: scorer, dimension: s["dimension"]?.string, mean: mean, count: n))
        }
        let report = PhaseEvalReport(
            step: step, phase: index, name: name, run: o["run"]?.string ?? "", benchmark: o["benchmark"]?.string ?? "",
            answers: count(o["answers"]) ?? 0, scores: scores)
        return .event(.phaseEval(report), warning: nil)
    }

    private static func finiteWarning(_ loss: Double, source: String, line: Int) -> TrainLogIssue? {
        loss.isFinite ? nil : TrainLogIssue(source: source, line: line, reason: "loss is not finite")
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and line breaks.
    var trimmingWhitespace: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
