import ArgumentParser

/// The attention-analysis subcommands of `lem`, registered by the root command.
enum AttentionCommands {
    static let all: [any ParsableCommand.Type] = [AttnCommand.self]
}
