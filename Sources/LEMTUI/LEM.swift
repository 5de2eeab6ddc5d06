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

/// The executable's entry point: reads the engine options from the environment, then runs `LEM`.
///
/// The environment is read here once (`EngineOptions(environment:)`): the library default is the
/// exact f32 path (the reference tests hold it to transformers), the program's is llama.cpp's
/// 8-bit activations unless `LEM_Q8_ACTIVATIONS=0`. A value it cannot read stops the program with
/// a message naming the variable. The thread count goes to the kernel pool; the commands build
/// their models with `EngineDefaults.options`.
@main
enum LEMMain {
    static func main() async {
        do {
            EngineDefaults.options = try EngineOptions(environment: ProcessInfo.processInfo.environment)
        } catch {
            printError("lem: \(error)")
            exit(64)  // EX_USAGE, as for a bad argument
        }
        EngineThreads.apply(EngineDefaults.options)
        await LEM.main()
    }
}
