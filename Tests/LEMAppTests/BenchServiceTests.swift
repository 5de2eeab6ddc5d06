import Foundation
import LEMCore
import LEMStore
import Testing

@testable import LEMApp
@testable import Panels

@Suite("BenchService", .serialized)
struct BenchServiceTests: ServiceSuite {
    let harness: ServiceHarness<BenchService>

    init() throws { harness = try ServiceHarness { BenchService(context: $0.context, inbox: $1, model: $0.key) } }

    func activity(_ wb: Workbench) -> BenchActivity? { wb.bench.model.activity }

    func finished(_ label: String) async throws -> BenchActivity {
        try await inbox.settle(label) { activity($0)?.running == false }
        return try #require(activity(inbox.workbench))
    }

    @Test("an empty store says how to fill it; a run answers the seeds with the chat model and shows them")
    func run() async throws {
        service.start()
        try await inbox.settle("no store yet") { $0.bench.model.notice?.contains("No results store") == true }
        service.handle(.startRun(BenchRunRequest(benchmark: "seeds", limit: 2, maxTokens: 3, seed: 1)))
        let done = try await finished("run finished")
        #expect(!done.failed, "\(done.line)")
        #expect(done.line.contains("complete: 2/2 answered"))
        try await inbox.settle("reloaded") { $0.bench.model.runs == ["tiny-chat"] }
        #expect(inbox.workbench.bench.model.prompts.count == 2)
        // F5 reads the store again and says so, even when nothing changed.
        #expect(inbox.workbench.notice == nil)
        service.handle(.reload)
        try await inbox.settle("reload announced") { $0.notice?.hasSuffix("again: 1 run, 2 prompts") == true }
        // The run used the pool's model: the one load is shared with Chat.
        #expect(world.context.pool.cached(world.key) != nil)
        // Running again resumes: nothing left to answer.
        service.handle(.startRun(BenchRunRequest(benchmark: "seeds", limit: 2, maxTokens: 3, seed: 1)))
        try await inbox.settle("second run") {
            activity($0)?.running == false && activity($0)?.line.contains("0 now") == true
        }
    }

    @Test("a scoring pass writes scores; an unknown scorer fails with its name; one job at a time")
    func score() async throws {
        service.start()
        service.handle(.startRun(BenchRunRequest(benchmark: "seeds", limit: 2, maxTokens: 3, seed: 1)))
        _ = try await finished("run")
        service.handle(.score(scorers: ["lek-heuristic"]))
        try await inbox.settle("scored") {
            activity($0)?.title == "score lek-heuristic" && activity($0)?.running == false
        }
        #expect(activity(inbox.workbench)?.line.hasPrefix("wrote ") == true)
        service.handle(.score(scorers: ["nonsense"]))
        try await inbox.settle("refused scorer") { activity($0)?.failed == true }
        #expect(activity(inbox.workbench)?.line.contains("nonsense") == true)
    }

    @Test("a local judge pass over the run's answers reports what it could not score")
    func judge() async throws {
        service.start()
        service.handle(.startRun(BenchRunRequest(benchmark: "seeds", limit: 2, maxTokens: 3, seed: 1)))
        let run = try await finished("run")
        #expect(!run.failed && run.line.contains("2/2 answered"), "\(run.line)")
        try await inbox.settle("job cleared") { _ in !service.isBusy }
        service.handle(
            .judge(BenchJudgeRequest(backend: .local(path: world.model.path), rubric: "seeds", maxTokens: 4)))
        try await inbox.settle("judged") {
            activity($0)?.title.contains("judge") == true && activity($0)?.running == false
        }
        let done = try #require(activity(inbox.workbench))
        // A tiny random model writes no JSON verdict: both answers stay unscored, none is made up,
        // and the panel says why and that the judge is too small to trust.
        #expect(done.line.hasPrefix("0 scored, 2 unscored, 0 failed"), "\(done.line)")
        #expect(done.line.contains("not scored: reply holds no JSON object: 2 of 2"), "\(done.line)")
        #expect(
            done.warning?.contains("parameters; models under 1 B seldom write the rubric's JSON verdict") == true,
            "\(done.warning ?? "no warning")")
        var screen = ScreenBuffer(width: 100, height: 24)
        inbox.workbench.selected = .bench
        inbox.workbench.render(into: &screen)
        let text = screen.lines.joined(separator: "\n")
        #expect(
            text.contains("no JSON object: 2 of 2") && text.contains("warning: small judge: tiny-chat has about"),
            "\(text)")
    }

    @Test("cancel stops a run and keeps what was answered")
    func cancel() async throws {
        service.start()
        service.handle(.startRun(BenchRunRequest(benchmark: "seeds", maxTokens: 200, seed: 1)))
        try await inbox.settle("answering") {
            activity($0)?.line.contains("[1/") == true || activity($0)?.line.contains("1/") == true
        }
        service.handle(.cancel)
        let done = try await finished("stopped")
        #expect(done.line.contains("stopped"), "\(done.line)")
        #expect(!service.isBusy)
    }
}
