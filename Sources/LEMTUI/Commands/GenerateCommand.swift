import ArgumentParser
import Foundation
import LEMEngine

/// `lem generate`: one completion, streamed to stdout.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate text (or token ids) from a prompt; statistics go to stderr.")

    @OptionGroup var model: ModelOption
    @Option(help: "Prompt text (needs the model's tokenizer).") var prompt: String?
    @Option(help: "Comma-separated prompt token ids, e.g. 1,2,3.") var ids: String?
    @Flag(help: "Wrap the prompt as a user message in the model's chat template.") var chat = false
    @Option(help: "System message for --chat.") var system: String?
    @OptionGroup var sampling: SamplingOptions
    @Flag(help: "Print the generated token ids as a JSON array instead of text.") var printIds = false

    func validate() throws {
        if (prompt == nil) == (ids == nil) { throw ValidationError("give exactly one of --prompt or --ids") }
        if chat && prompt == nil { throw ValidationError("--chat needs --prompt") }
        if system != nil && !chat { throw ValidationError("--system needs --chat") }
    }

    func run() throws {
        let (files, lm) = try model.load()
        let parameters = try sampling.parameters()
        // Text is needed for --prompt; with --ids it is only used to print the output as text.
        let text: TextSupport? = prompt != nil ? try TextSupport(files: files) : (printIds ? nil : try? TextSupport(files: files))
        let promptIds: [Int]
        if let ids {
            promptIds = try EngineDefaults.parseIds(ids)
        } else if let text {
            if chat {
                var messages: [ChatTurn] = []
                if let system { messages.append(ChatTurn(role: "system", content: system)) }
                messages.append(ChatTurn(role: "user", content: prompt ?? ""))
                promptIds = try text.chatPrompt(messages)
            } else {
                promptIds = try text.encode(prompt ?? "", addSpecialTokens: true)
            }
        } else {
            throw ValidationError("give --prompt or --ids")
        }
        let generator = Generator(model: lm, makeDecoder: printIds ? nil : text?.decoderFactory)
        let request = GenerationRequest(
            promptIds: promptIds, maxTokens: sampling.maxTokens, sampling: parameters,
            stopTokenIds: Set(chat ? (text?.eosIds ?? []) : Array(text?.tokenizer.eosTokenIds ?? [])).union(lm.config.eosTokenIds),
            stopStrings: chat ? (text?.chatStopStrings ?? []) : [])
        var generated: [Int] = []
        var failure: (any Error)?
        generator.run(request) { event in
            switch event {
            case .token(let id, let piece):
                generated.append(id)
                if !printIds {
                    FileHandle.standardOutput.write(Data(piece.utf8))
                }
            case .finished(let stats):
                printError(stats.summary)
            case .failed(let error):
                failure = error
            case .promptProcessed:
                break
            }
        }
        if let failure { throw failure }
        if printIds {
            print("[" + generated.map(String.init).joined(separator: ", ") + "]")
        } else {
            print("")
        }
    }
}
