import ArgumentParser
import Foundation
import LEMApp
import LEMEval

/// `lem data`: building training data.
struct DataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data", abstract: "Build training data from prompts.", subcommands: [DataSandwichCommand.self])
}

/// `lem data sandwich`: prompts → mlx_lm chat lines in the sandwich layout.
struct DataSandwichCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandwich",
        abstract: "Wrap prompts in the axioms and the kernel (the sandwich kernel mode) as mlx_lm chat lines.",
        discussion: """
            Prompts: a seeds JSON array, JSONL with 'prompt' (an answer as 'response', 'answer' or \
            'completion' becomes the assistant turn) or chat lines ('messages'), or one prompt per line. \
            Prompts without an answer give a user turn only: answer them with lem distill. See docs/DATA.md.
            """)

    @Option(help: "The prompts file.") var prompts: String
    @Option(help: "The kernel folder (kernel.md + axioms.json) or its kernel.md; default: the installed kernel/.")
    var kernel: String?
    @Option(help: "Where to write the lines (written atomically); default: standard output.") var out: String?

    func run(in context: AppContext) async throws {
        let prompts = try ProbePrompt.load(file: context.paths.resolve(self.prompts))
        guard let kernelPath = kernel.map(context.paths.resolve) ?? context.paths.kernelDirectory else {
            throw ValidationError("no kernel folder found: give --kernel (a folder with kernel.md and axioms.json)")
        }
        let text = SandwichData.text(prompts, kernel: try SandwichData.kernel(at: kernelPath))
        let unanswered = prompts.filter { $0.answer == nil }.count
        if let out {
            let url = context.paths.resolve(out)
            try Data(text.utf8).write(to: url, options: .atomic)
            printError("wrote \(prompts.count) examples to \(url.path)")
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        if unanswered > 0 {
            printError("\(unanswered) of \(prompts.count) prompts have no answer: their lines hold the user turn only")
        }
    }
}
