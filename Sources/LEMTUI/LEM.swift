import ArgumentParser
import Foundation
import LEMEngine

/// The `lem` command: the workbench and its headless subcommands.
struct LEM: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lem",
        abstract: "LEM Workbench: chat with, train, benchmark and inspect small language models on CPU.",
        discussion: """
            Quantized weights are multiplied with the activation rounded to 8-bit blocks, as llama.cpp \
            does (fastest). LEM_Q8_ACTIVATIONS=0 selects the exact f32 path instead (logits equal to \
            transformers' within 1e-3). LEM_THREADS sets the thread count.
            """,
        subcommands: EngineCommands.all + TokenizerCommands.all + BenchCommands.all + TrainCommands.all + PerformanceCommands.all
            + WorkbenchCommands.all + AttentionCommands.all,
        defaultSubcommand: WorkbenchCommand.self
    )
}

/// The executable's entry point: picks the kernels' activation mode, then runs `LEM`.
///
/// The library default is the exact f32 path (the reference tests hold it to transformers); the
/// program defaults to llama.cpp's 8-bit activations unless `LEM_Q8_ACTIVATIONS` says otherwise.
@main
enum LEMMain {
    static func main() async {
        if ProcessInfo.processInfo.environment["LEM_Q8_ACTIVATIONS"] == nil { Kernels.setQ8Activations(true) }
        await LEM.main()
    }
}
