import ArgumentParser

/// The workbench subcommands of `lem`, registered by the root command.
enum WorkbenchCommands {
    static let all: [any ParsableCommand.Type] = []
}
