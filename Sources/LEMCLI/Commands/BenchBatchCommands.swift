import ArgumentParser
import Foundation
import LEMApp
import LEMCore
import LEMEngine
import LEMEval
import LEMStore

/// `lem bench export-batch`: a run's unanswered items as an OpenAI Batch JSONL file on stdout.
struct BenchExportBatchCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-batch",
        abstract: "Write a run's unanswered items as OpenAI Batch JSONL (custom_id, method, url, body) on stdout.",
        discussion: """
            Opens (or resumes) the run named by --model-name and the LEM settings, as lem bench run \
            does, recording the engine as batch:MODEL, and prints its run id on stderr. Feed the file to \
            vllm run-batch, a hosted batch API or LiteLLM; bring the answers back with lem bench \
            import-batch --run R results.jsonl.
            """)

    @OptionGroup var database: DatabaseOption
    @Option(name: .customLong("model-name"), help: "Name to store the answers under.") var modelName: String
    @Option(name: .customLong("engine-model"), help: "The model field of each request (default: --model-name).")
    var engineModel: String?
    @Option(help: "gsm8k, truthfulqa, do_not_answer, toxigen, seeds, or a question/seeds FILE.") var benchmark: String
    @Option(help: "Only the first N items (key order).") var limit: Int?
    @Option(help: "none, system or sandwich.") var kernel: String = "none"
    @Option(name: .customLong("kernel-file"), help: "Kernel text file (or folder with kernel.md + axioms.json).")
    var kernelFile: String?
    @Option(help: "Sampling seed.") var seed: UInt64 = 0
    @Option(help: "Sampling temperature (default 0.3, the LEM setting; 0: greedy).") var temperature: Double?
    @Option(
        name: .customLong("max-tokens"), help: "New tokens per answer (default 512 for gsm8k/seeds, 256 otherwise).")
    var maxTokens: Int?

    func run(in context: AppContext) async throws {
        guard let mode = KernelMode(rawValue: kernel) else {
            throw ValidationError("--kernel must be none, system or sandwich (got \(kernel))")
        }
        let store = try database.open(in: context)
        let name = try BenchRunCommand.benchmarkName(benchmark, store: store, seeds: context.paths.seedsDirectory)
        let kernelText = mode == .none ? nil : try BenchRunCommand.kernel(file: kernelFile, paths: context.paths)
        var plan = BenchRunPlan(
            model: ModelKey(model: modelName), modelName: modelName, benchmark: name, limit: limit, kernelMode: mode,
            kernel: kernelText, maxTokens: maxTokens, seed: seed)
        plan.temperature = temperature
        let (runID, lines) = try BatchFile.export(plan: plan, model: engineModel ?? modelName, store: store)
        for line in lines { print(line) }
        printError("run \(runID): \(lines.count) requests for \(modelName) on \(name)")
    }
}

/// `lem bench import-batch`: a batch output file's answers into a run.
struct BenchImportBatchCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-batch",
        abstract: "Store the answers of an OpenAI Batch output file (custom_id, response.body) in run R.")

    @OptionGroup var database: DatabaseOption
    @Option(name: .customLong("run"), help: "The run id export-batch printed.") var runID: Int64
    @Argument(help: "The batch output JSONL file.") var file: String

    func run(in context: AppContext) async throws {
        let store = try database.open(in: context)
        let url = context.paths.resolve(file)
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CommandFailure(description: "\(file): cannot read (\(error))")
        }
        let summary: BatchFile.ImportSummary
        do {
            summary = try BatchFile.importResults(data, file: file, runID: runID, store: store)
        } catch let error as LocatedError {
            throw CommandFailure(description: error.description)
        }
        for failure in summary.failed.prefix(10) { printError("failed: \(failure)") }
        print(
            "run \(runID): \(summary.stored) answers stored, \(summary.failed.count) failed, \(summary.pending) items unanswered"
        )
    }
}
