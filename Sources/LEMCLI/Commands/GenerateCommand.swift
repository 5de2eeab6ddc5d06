import ArgumentParser
import Foundation
import LEMApp
import LEMCore
import LEMEngine

/// `lem generate`: one completion, streamed to stdout.
struct GenerateCommand: ContextCommand {
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
    @Option(
        name: .customLong("prompt-cache-file"),
        help: "Continue a saved prompt (lem cache-prompt or mlx_lm.cache_prompt): --prompt/--ids are what follows it.")
    var promptCacheFile: String?

    func validate() throws {
        if (prompt == nil) == (ids == nil) { throw ValidationError("give exactly one of --prompt or --ids") }
        if chat && prompt == nil { throw ValidationError("--chat needs --prompt") }
        if system != nil && !chat { throw ValidationError("--system needs --chat") }
        if chat && promptCacheFile != nil {
            throw ValidationError("--chat renders a whole conversation; with --prompt-cache-file give the continuation")
        }
    }

    func run(in context: AppContext) async throws {
        // Text is needed for --prompt; with --ids it is only used to print the output as text.
        let loaded = try model.load(in: context, requireTokenizer: prompt != nil)
        let settings = try sampling.settings()
        var request: GenerationRequest
        if let ids {
            request = loaded.textRequest(promptIds: try parseIds(ids), sampling: settings)
        } else if chat {
            guard loaded.template != nil else { throw LoadedModelError.noTemplate(loaded.key.model) }
            var messages: [ChatMessage] = []
            if let system { messages.append(.system(system)) }
            messages.append(.user(prompt ?? ""))
            request = try loaded.chatRequest(messages: messages, sampling: settings)
        } else {
            request = loaded.textRequest(
                promptIds: try loaded.encode(prompt ?? "", addSpecialTokens: true), sampling: settings)
        }
        if let promptCacheFile {
            let contents = try loaded.loadPromptCache(promptCacheURL(promptCacheFile, in: context))
            request.startingState = contents.snapshot
            if prompt != nil {
                // The continuation of a computed prompt: no second BOS.
                request.promptIds = try loaded.encode(prompt ?? "", addSpecialTokens: false)
            }
        }
        var generated: [Int] = []
        var failure: (any Error)?
        loaded.generator.run(request) { event in
            switch event {
            case .token(let id, let piece):
                generated.append(id)
                if !printIds { FileHandle.standardOutput.write(Data(piece.utf8)) }
            case .finished(let stats): printError(stats.summary)
            case .failed(let error): failure = error
            case .promptProcessed: break
            }
        }
        if let failure { throw failure }
        print(printIds ? "[" + generated.map(String.init).joined(separator: ", ") + "]" : "")
    }
}
