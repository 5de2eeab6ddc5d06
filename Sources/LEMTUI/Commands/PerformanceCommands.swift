import ArgumentParser

/// The performance-measurement subcommands of `lem`, registered by the root command.
enum PerformanceCommands {
    static let all: [any ParsableCommand.Type] = [BenchSpeedCommand.self]
}
