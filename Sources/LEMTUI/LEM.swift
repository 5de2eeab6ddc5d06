import ArgumentParser

/// The `lem` command: the workbench and its headless subcommands.
@main
struct LEM: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lem",
        abstract: "LEM Workbench: chat with, train, benchmark and inspect small language models on CPU.",
        subcommands: EngineCommands.all + TokenizerCommands.all + BenchCommands.all + TrainCommands.all + PerformanceCommands.all
            + WorkbenchCommands.all + AttentionCommands.all,
        defaultSubcommand: WorkbenchCommand.self
    )
}
