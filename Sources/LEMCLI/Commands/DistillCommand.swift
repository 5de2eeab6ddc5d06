import ArgumentParser
import Foundation
import LEMApp
import LEMCore
import LEMEngine
import LEMEval
import LEMStore

/// `lem distill`: a teacher answers prompts with the kernel; the student's data is the bare
/// prompt and the answer.
struct DistillCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "distill",
        abstract: "A teacher answers prompts (with the kernel); writes the bare prompt + answer as mlx_lm chat data.",
        discussion: """
            Each prompts file (seeds JSON, JSONL with 'prompt', chat lines or one prompt per line) is \
            stored as a benchmark in the results database and each sample is a benchmark run there \
            (seed S, S+1, …): running the same command again resumes, keeping every answer. The \
            teacher may be a local model or an OpenAI-compatible server (http(s) URL, e.g. lem serve \
            on a GPU machine). OUT/train.jsonl and OUT/valid.jsonl hold {"messages": [user, assistant]} \
            with the prompt as written (no kernel), split deterministically for the seed. See docs/DATA.md.
            """)

    @OptionGroup var database: DatabaseOption

    @Option(help: "The teacher: a model (.gguf, folder, ORG/NAME) or an OpenAI-compatible API root (http(s)://…/v1).")
    var teacher: String
    @Option(name: .customLong("teacher-adapter"), help: "An adapter folder applied to a local teacher.")
    var teacherAdapter: String?
    @Option(name: .customLong("teacher-model"), help: "A remote teacher's model name (default: the first it lists).")
    var teacherModel: String?
    @Option(name: .customLong("engine-key-env"), help: "Environment variable holding a remote teacher's API key.")
    var engineKeyEnv: String = "LEM_ENGINE_API_KEY"
    @Option(parsing: .upToNextOption, help: "Prompts files.") var prompts: [String]
    @Option(help: "How the teacher sees the kernel: none, system or sandwich.") var kernel: String = "sandwich"
    @Option(name: .customLong("kernel-file"), help: "Kernel text file (or folder with kernel.md + axioms.json).")
    var kernelFile: String?
    @Option(help: "Answers per prompt (sample k uses seed S+k).") var samples: Int = 1
    @Option(name: .customLong("max-tokens"), help: "New tokens per answer (default 256).") var maxTokens: Int?
    @Option(name: .customLong("min-score"), help: "Keep answers scoring at least X: SCORER[.DIMENSION]:X.")
    var minScore: String?
    @Option(help: "Sampling seed of the first sample; also decides the train/valid split.") var seed: UInt64 = 0
    @Option(name: .customLong("valid-fraction"), help: "Share of the examples in valid.jsonl.") var validFraction =
        0.1
    @Option(help: "Prompts asked at once of a remote teacher.") var concurrency: Int = 1
    @Option(help: "Output folder for train.jsonl and valid.jsonl.") var out: String

    func run(in context: AppContext) async throws {
        guard let mode = KernelMode(rawValue: kernel) else {
            throw ValidationError("--kernel must be none, system or sandwich (got \(kernel))")
        }
        guard !prompts.isEmpty else { throw ValidationError("give at least one --prompts file") }
        let isRemote = teacher.hasPrefix("http://") || teacher.hasPrefix("https://")
        if isRemote && teacherAdapter != nil {
            throw ValidationError("--teacher-adapter applies to a local teacher; a remote one serves its own")
        }
        if !isRemote && (teacherModel != nil || concurrency != 1) {
            throw ValidationError("--teacher-model and --concurrency need a remote --teacher (an http(s) URL)")
        }
        let threshold: Distillation.Threshold?
        do { threshold = try minScore.map { try Distillation.Threshold(parsing: $0) } } catch {
            throw ValidationError("\(error)")
        }
        let store = try database.open(in: context)
        let kernelText = mode == .none ? nil : try BenchRunCommand.kernel(file: kernelFile, paths: context.paths)
        let remote =
            isRemote
            ? try await BenchRunCommand.remoteEngine(
                teacher, model: teacherModel, keyEnv: engineKeyEnv, flag: "--teacher", context: context) : nil
        let key =
            try remote.map { ModelKey(model: $0.model) }
            ?? ModelKey(
                model: try context.resolveModel(teacher), adapter: teacherAdapter.map { context.paths.resolve($0) })
        var plan = BenchRunPlan(
            model: key, modelName: remote.map { $0.model + (mode == .none ? "" : "+" + mode.rawValue) },
            benchmark: "distill", kernelMode: mode, kernel: kernelText, maxTokens: maxTokens ?? 256, seed: seed)
        plan.remote = remote
        plan.concurrency = concurrency
        let distillation = Distillation(
            teacher: plan, samples: samples, seed: seed, threshold: threshold, validFraction: validFraction)
        do { try distillation.validate() } catch { throw ValidationError("\(error)") }

        var benchmarks: [String] = []
        for file in prompts {
            do { benchmarks.append(try Distillation.register(file: context.paths.resolve(file), store: store)) } catch {
                throw CommandFailure(description: "\(error)")
            }
        }
        let plans = distillation.plans(benchmarks: benchmarks)
        for p in plans { try p.checkUnclaimed(store: store) }
        var loaded: LoadedModel?
        if remote == nil {
            printError("loading \(key.title)…")
            loaded = try context.load(key)
        }
        var runs: [(plan: BenchRunPlan, runID: Int64)] = []
        for (i, p) in plans.enumerated() {
            printError(
                "answer set \(i + 1)/\(plans.count): \(p.benchmark), sample \(Int(p.seed &- seed) + 1)/\(samples), "
                    + "seed \(p.seed), kernel \(mode.rawValue), teacher \(p.spec.model) → \(store.url.path)")
            let (runID, _) = try await BenchRunCommand.execute(p, store: store, model: loaded)
            runs.append((p, runID))
        }
        let selection = try distillation.examples(runs: runs, store: store)
        let (train, valid) = distillation.split(selection.kept)
        let folder = context.paths.resolve(out)
        try Distillation.write(train: train, valid: valid, to: folder)
        var note = ""
        if let threshold { note += ", \(selection.rejected) below \(threshold.scorer) \(threshold.minimum)" }
        if selection.empty > 0 { note += ", \(selection.empty) empty" }
        print(
            "wrote \(train.count) train and \(valid.count) valid examples to \(folder.path)"
                + " (\(selection.kept.count) kept\(note))")
    }
}
