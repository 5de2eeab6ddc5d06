import ArgumentParser

/// The bench subcommands of `lem`, registered by the root command.
enum BenchCommands {
    static let all: [any ParsableCommand.Type] = []
}
