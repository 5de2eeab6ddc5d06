import ArgumentParser

/// The tokenizer subcommands of `lem`, registered by the root command.
enum TokenizerCommands {
    static let all: [any ParsableCommand.Type] = [TokenizeCommand.self, TemplateCommand.self]
}
