import Foundation
import LEMCore
import LEMScoring
import LEMStore

/// A benchmark run as an OpenAI Batch file and back: one request line per unanswered item
/// (`custom_id`, `method`, `url`, `body`), which `vllm run-batch`, hosted batch APIs and LiteLLM
/// take, and their output lines (`custom_id`, `response.status_code`, `response.body`, `error`)
/// stored as the run's answers.
public enum BatchFile {
    /// The request lines for `plan`'s unanswered items, opening (or resuming) its run with the
    /// engine recorded as `batch:<model>`; returns the run id and the lines.
    public static func export(plan: BenchRunPlan, model: String, store: ResultStore) throws -> (
        runID: Int64, lines: [String]
    ) {
        try plan.validate()
        var spec = plan.spec
        spec.engine = "batch:" + model
        let all = try store.itemCount(benchmark: spec.benchmark)
        guard all > 0 else {
            throw LocatedError("benchmark `\(spec.benchmark)`", "has no items; import its questions first")
        }
        let (runID, _) = try store.openRun(spec)
        let pending = try store.pendingItems(
            runID: runID, benchmark: spec.benchmark, limit: min(all, plan.limit ?? all))
        let lines = pending.map { item -> String in
            let messages = BenchPrompt.messages(
                prompt: item.prompt, benchmark: spec.benchmark, mode: spec.kernelMode,
                kernel: spec.kernelMode == .none ? nil : plan.kernel)
            let body = OpenAIClient.chatBody(
                model: model, messages: messages, temperature: spec.sampling.temperature,
                maxTokens: spec.sampling.maxTokens, extra: RemoteResponseGenerator.extraFields(spec.sampling))
            return JSONValue.object(
                JSONObject(members: [
                    ("custom_id", .string(item.key)), ("method", .string("POST")),
                    ("url", .string("/v1/chat/completions")),
                    ("body", body)
                ])
            ).jsonText(sortedKeys: false)
        }
        return (runID, lines)
    }

    /// What an import did.
    public struct ImportSummary: Sendable, Equatable {
        /// Answers stored.
        public var stored: Int
        /// Lines whose request failed (an `error`, or a non-2xx status), with their ids and reasons.
        public var failed: [String]
        /// Items of the run still unanswered after the import.
        public var pending: Int
    }

    /// Stores the answers of a batch output file in run `runID`; the run becomes `complete` when
    /// no item is left. Bad lines are errors naming the line; failed requests are reported, not stored.
    public static func importResults(_ data: Data, file: String, runID: Int64, store: ResultStore) throws
        -> ImportSummary
    {
        guard let run = try store.runSummary(runID) else { throw LocatedError("--run \(runID)", "no such run") }
        var summary = ImportSummary(stored: 0, failed: [], pending: 0)
        let text = String(decoding: data, as: UTF8.self)
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            let place = "\(file):\(index + 1)"
            let json: JSONValue
            do { json = try JSONValue.parse(trimmed) } catch { throw LocatedError(place, "not JSON: \(error)") }
            guard let key = json["custom_id"]?.string else { throw LocatedError(place, "expected a custom_id string") }
            guard let itemID = try store.itemID(benchmark: run.benchmark, key: key) else {
                throw LocatedError(place, "custom_id `\(key)` is no item of benchmark `\(run.benchmark)`")
            }
            if let error = json["error"], !error.isNull {
                summary.failed.append("\(key): \(error["message"]?.string ?? error.jsonText())")
                continue
            }
            let status = json["response"]?["status_code"]?.int ?? 0
            guard (200..<300).contains(status) else {
                summary.failed.append("\(key): HTTP \(status)")
                continue
            }
            guard let body = json["response"]?["body"],
                let content = body["choices"]?.array?.first?["message"]?["content"]?.string
            else { throw LocatedError(place, "expected response.body.choices[0].message.content") }
            try store.recordResponse(
                runID: runID, itemID: itemID,
                GeneratedResponse(
                    text: content.trimmingCharacters(in: .whitespacesAndNewlines),
                    tokens: body["usage"]?["completion_tokens"]?.int,
                    seconds: nil))
            summary.stored += 1
        }
        summary.pending = try store.pendingItems(runID: runID, benchmark: run.benchmark).count
        if summary.pending == 0 { try store.setRunStatus(runID, "complete") }
        if run.benchmark == "gsm8k", summary.stored > 0 {
            _ = try ScoringPass.run(
                GSM8KScorer.Rule.allCases.map { GSM8KScorer(rule: $0) }, store: store,
                benchmarks: ["gsm8k"], models: [run.model])
        }
        return summary
    }
}
