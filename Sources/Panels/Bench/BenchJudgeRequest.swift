/// An LLM-judge pass as chosen in the Bench panel's judge form: which judge (a local model file
/// or an OpenAI-compatible endpoint), which rubric, whose answers, and the verdict length.
///
/// Like `lem bench score --scorer judge`, a pass skips answers that already hold a verdict
/// unless `rescore` is set, so starting the same pass again resumes it.
public struct BenchJudgeRequest: Hashable, Sendable {
    /// Where the judge runs.
    public enum Backend: Hashable, Sendable {
        /// A model file or folder answered by the local engine.
        case local(path: String)
        /// An OpenAI-compatible API root (`http://host:port/v1`) and the model name sent to it.
        case http(url: String, model: String)
    }

    public var backend: Backend
    /// The rubric's name (`truthfulqa`, `do_not_answer`, …); nil judges every benchmark with a rubric.
    public var rubric: String?
    /// The run (model name) whose answers are judged; nil judges every run.
    public var run: String?
    /// Most tokens per local verdict.
    public var maxTokens = 384
    /// Judge again answers that already have a verdict.
    public var rescore = false

    /// The judge choice that means "an HTTP endpoint" in the form.
    public static let httpChoice = "OpenAI-compatible URL"
    /// The choice meaning "no filter" in the rubric and run rows.
    public static let allChoice = "all"

    /// The judge form: judge (the offered local models, then the HTTP endpoint), endpoint URL and
    /// model name, rubric, run, verdict length, rescore, and the start button.
    static func form(judges: [String], rubrics: [String], runs: [String]) -> FormState {
        let judgeOptions = judges + [httpChoice]
        return FormState(fields: [
            FormField("judge", "Judge", judgeOptions[0], .choice(judgeOptions)),
            FormField("url", "URL", "http://127.0.0.1:8080/v1"),
            FormField("name", "URL model", "judge"),
            FormField("rubric", "Rubric", allChoice, .choice([allChoice] + rubrics)),
            FormField("run", "Answers of", allChoice, .choice([allChoice] + runs)),
            FormField("max", "Max tokens", "384"),
            FormField("rescore", "Rescore", "no", .choice(["no", "yes"])),
            FormField("start", "Start judging", "", .action)
        ])
    }

    /// Reads the judge form; the error names the row that is wrong.
    static func parse(_ form: FormState) -> Result<BenchJudgeRequest, BenchFormError> {
        let judge = form["judge"]
        let backend: Backend
        if judge == httpChoice {
            let url = form["url"].trimmed
            guard url.hasPrefix("http://") || url.hasPrefix("https://"), url.count > 8 else {
                return .failure(
                    BenchFormError("URL: expected http(s)://host:port/v1 (got \(url.isEmpty ? "nothing" : url))"))
            }
            let name = form["name"].trimmed
            backend = .http(url: url, model: name.isEmpty ? "judge" : name)
        } else {
            guard !judge.isEmpty else {
                return .failure(
                    BenchFormError("Judge: no local model found; pick \(httpChoice) or install one (Scripts/setup.sh)"))
            }
            backend = .local(path: judge)
        }
        guard let max = Int(form["max"].trimmed), max > 0 else {
            return .failure(BenchFormError("Max tokens: \(form["max"]) is not a positive number"))
        }
        let rubric = form["rubric"]
        let run = form["run"]
        return .success(
            BenchJudgeRequest(
                backend: backend, rubric: rubric == allChoice || rubric.isEmpty ? nil : rubric,
                run: run == allChoice || run.isEmpty ? nil : run, maxTokens: max, rescore: form["rescore"] == "yes"))
    }

    /// A short title for the progress line, e.g. `judge truthfulqa · SmolLM2.gguf`.
    public var title: String {
        let who: String
        switch backend {
        case .local(let path): who = path.split(separator: "/").last.map(String.init) ?? path
        case .http(let url, let model): who = "\(model) @ \(url)"
        }
        return "judge \(rubric ?? "all rubrics") · \(who)"
    }
}
