import ArgumentParser
import Foundation
import LEMApp
import LEMCore
import LEMEngine

/// `lem chat`: a line-based chat REPL with the model's chat template.
struct ChatCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Chat on the terminal, one line per message. Commands: /system TEXT, /clear, /save FILE, /quit.")

    @OptionGroup var model: ModelOption
    @Option(help: "Initial system message.") var system: String?
    @OptionGroup var sampling: SamplingOptions
    @Option(
        name: .customLong("prompt-cache-file"),
        help: "A saved prompt (lem cache-prompt) that turns starting with its tokens continue from (repeatable).")
    var promptCacheFiles: [String] = []

    func run(in context: AppContext) async throws {
        let loaded = try model.load(in: context)
        guard loaded.template != nil else { throw LoadedModelError.noTemplate(loaded.key.model) }
        for file in promptCacheFiles {
            let url = promptCacheURL(file, in: context)
            let tokens = try loaded.seedPrefixCache(from: url)
            printError("(\(tokens) prompt tokens from \(url.lastPathComponent): turns that start with them reuse them)")
        }
        let settings = try sampling.settings()
        var systemMessage = system
        var turns: [ChatMessage] = []
        printError("chat with \(loaded.title) — /system TEXT, /clear, /save FILE, /quit")
        while true {
            FileHandle.standardOutput.write(Data("> ".utf8))
            guard let line = readLine() else { break }
            let input = line.trimmingCharacters(in: .whitespaces)
            if input.isEmpty { continue }
            if input.hasPrefix("/") {
                let (command, argument) = Self.split(input)
                switch command {
                case "/quit", "/exit": return
                case "/clear":
                    turns.removeAll()
                    printError("(conversation cleared)")
                case "/system":
                    systemMessage = argument.isEmpty ? nil : argument
                    printError(argument.isEmpty ? "(system message removed)" : "(system message set)")
                case "/save":
                    guard !argument.isEmpty else {
                        printError("usage: /save FILE")
                        continue
                    }
                    do {
                        try Self.save(system: systemMessage, turns: turns, to: argument)
                        printError("(saved \(turns.count) messages to \(argument))")
                    } catch {
                        printError("save failed: \(error)")
                    }
                default:
                    printError("unknown command \(command): /system TEXT, /clear, /save FILE, /quit")
                }
                continue
            }
            turns.append(.user(input))
            var messages = turns
            if let systemMessage { messages.insert(.system(systemMessage), at: 0) }
            let request = try loaded.chatRequest(messages: messages, sampling: settings)
            var reply = ""
            loaded.generator.run(request) { event in
                switch event {
                case .token(_, let piece):
                    reply += piece
                    FileHandle.standardOutput.write(Data(piece.utf8))
                case .finished(let stats): printError("\n[\(stats.summary)]")
                case .failed(let error): printError("\ngeneration failed: \(error)")
                case .promptProcessed: break
                }
            }
            turns.append(.assistant(reply.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
    }

    /// Splits `/command argument text` at the first space.
    static func split(_ input: String) -> (String, String) {
        guard let space = input.firstIndex(of: " ") else { return (input, "") }
        return (String(input[..<space]), input[space...].trimmingCharacters(in: .whitespaces))
    }

    /// Writes the conversation as JSON `{"system": ..., "messages": [{role, content}]}` atomically.
    static func save(system: String?, turns: [ChatMessage], to path: String) throws {
        struct Transcript: Codable {
            var system: String?
            var messages: [ChatMessage]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(Transcript(system: system, messages: turns))
        try data.write(to: URL(fileURLWithPath: (path as NSString).expandingTildeInPath), options: .atomic)
    }
}
