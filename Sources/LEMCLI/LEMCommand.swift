import ArgumentParser
import Foundation
import LEMApp

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
        subcommands: [
            WorkbenchCommand.self, GenerateCommand.self, LogitsCommand.self, ChatCommand.self, ModelsCommand.self,
            TokenizeCommand.self, TemplateCommand.self, BenchCommand.self, TrainCommand.self, FuseCommand.self,
            BenchSpeedCommand.self, BenchChatCommand.self, BenchUICommand.self, AttnCommand.self, ServeCommand.self,
            PullCommand.self, CachePromptCommand.self, CacheCommand.self, DataCommand.self, DistillCommand.self
        ],
        defaultSubcommand: WorkbenchCommand.self
    )
}

/// A subcommand that runs in the application context (paths, environment, model pool) the
/// executable built at start, instead of looking anything up itself.
protocol ContextCommand: ParsableCommand {
    /// Runs the command.
    func run(in context: AppContext) async throws
}

extension ContextCommand {
    /// Not used: `LEMCommandLine.main` calls `run(in:)`.
    func run() throws {
        throw CommandFailure(description: "\(Self._commandName) needs the application context (run it through lem)")
    }
}

/// The command line of `lem`: parses the arguments and runs the chosen command with the context.
public enum LEMCommandLine {
    /// Runs `arguments` (without the program name) and exits the process with the command's status.
    public static func main(arguments: [String], context: AppContext) async -> Never {
        do {
            var command = try LEM.parseAsRoot(arguments)
            if let contextual = command as? any ContextCommand {
                try await contextual.run(in: context)
            } else if var async = command as? any AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
            LEM.exit()
        } catch {
            LEM.exit(withError: error)
        }
    }
}

/// A failure worth one clear line (no usage text): ArgumentParser prints `Error: <description>`.
struct CommandFailure: Error, CustomStringConvertible {
    /// The message shown.
    var description: String
}

/// Prints a line to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
