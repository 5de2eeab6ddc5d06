import Foundation
import LEMCore
import LEMEngine
import LEMEval
import LEMScoring
import LEMStore
import Panels

/// The Bench panel's judge pass: `JudgePass` over the store with a local model from the pool
/// (`LocalJudgeBackend`, one request at a time) or an OpenAI-compatible endpoint
/// (`HTTPJudgeBackend`, its key from `LEM_JUDGE_API_KEY`), as `lem bench score --scorer judge`
/// runs it. Answers that already hold a verdict are skipped unless the form asks to rescore, so
/// starting again resumes; `x` stops the pass and what was judged stays.
extension BenchService {
    /// The environment variable holding the HTTP judge's API key.
    static let judgeKeyVariable = "LEM_JUDGE_API_KEY"

    /// Local judge models for the form: the workbench's model first, then the installed ones.
    func judgeCandidates() -> [String] {
        let catalog = context.modelCatalog(adapterRoots: [])
        var out: [String] = []
        if let model { out.append(model.model) }
        for choice in catalog.models() where !out.contains(choice.path) { out.append(choice.path) }
        return out
    }

    /// The judge backend of a request and how many requests it takes at once.
    func judgeBackend(_ request: BenchJudgeRequest, title: String) throws -> (any JudgeBackend, Int) {
        switch request.backend {
        case .http(let url, let name):
            guard let u = URL(string: url), u.scheme == "http" || u.scheme == "https", u.host != nil else {
                throw AppError("judge URL must be http(s)://host:port/v1 (got \(url))")
            }
            return (
                HTTPJudgeBackend(baseURL: u, model: name, apiKey: context.variable(Self.judgeKeyVariable), timeout: 60),
                4
            )
        case .local(let path):
            let url = try context.resolveModel(path)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw AppError("judge model \(path): no such model file or folder")
            }
            let key = ModelKey(model: url)
            if context.pool.cached(key) == nil {
                post(BenchActivity(title: title, line: "loading judge \(url.lastPathComponent)…"))
            }
            let loaded = try context.pool.model(for: key)
            return (
                LocalJudgeBackend(model: loaded, sampling: SamplingSettings(maxTokens: request.maxTokens)),
                loaded.generator.maxBatch
            )
        }
    }

    /// Starts a judge pass in the background with progress in the panel's status strip.
    func startJudge(_ request: BenchJudgeRequest) {
        let title = request.title
        launch(title) { [self] in
            let store = try openStore()
            let rubrics = JudgeRubric.builtIn.filter { request.rubric == nil || $0.name == request.rubric }
            guard !rubrics.isEmpty else { throw AppError("no rubric named \(request.rubric ?? "")") }
            let (backend, width) = try judgeBackend(request, title: title)
            let caveat = backend.caveat
            try Task.checkCancellation()
            let pass = JudgePass(
                store: store, backend: backend, rubrics: rubrics,
                settings: .init(concurrency: width, retries: 3, rescore: request.rescore))
            let summary = try await pass.run(models: request.run.map { [$0] } ?? []) { [self] event in
                switch event {
                case .started(let count):
                    post(
                        BenchActivity(
                            title: title, line: "judging \(count) answers with \(backend.identity)",
                            fraction: count == 0 ? 1 : 0, warning: caveat))
                case .judged(let model, let bench, let item, let status, let reason, let done, let total):
                    let why = reason.map { " (\($0))" } ?? ""
                    post(
                        BenchActivity(
                            title: title,
                            line: "[\(done)/\(total)] \(bench) \(model) \(item): \(status.rawValue)\(why)",
                            fraction: total > 0 ? Double(done) / Double(total) : nil, warning: caveat))
                    if done % 5 == 0 { reload() }
                }
            }
            try Task.checkCancellation()
            // Why answers stay unscored is part of the result ("reply holds no JSON object: 50 of 50").
            // Failed verdicts show the job as failed; the next pass retries them.
            if summary.failed > 0 { throw AppError("\(summary) (judging again with J retries the failed ones)") }
            return JobResult(line: summary.description, warning: caveat)
        }
    }
}
