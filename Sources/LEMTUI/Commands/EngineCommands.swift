import ArgumentParser

/// The engine subcommands of `lem`, registered by the root command.
enum EngineCommands {
    static let all: [any ParsableCommand.Type] = [
        GenerateCommand.self, LogitsCommand.self, ChatCommand.self, ModelsCommand.self,
    ]
}
