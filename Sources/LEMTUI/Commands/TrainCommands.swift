import ArgumentParser

/// The train subcommands of `lem`, registered by the root command.
enum TrainCommands {
    static let all: [any ParsableCommand.Type] = [TrainCommand.self, FuseCommand.self]
}
