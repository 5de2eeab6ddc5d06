import ArgumentParser
import Foundation
import LEMCore
import LEMEngine

/// `lem template`: the prompt a model's chat template makes of a conversation.
struct TemplateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "template",
        abstract: "Render a conversation with the model's chat template (model folder, tokenizer folder or .gguf).")

    @Option(help: "Model folder, tokenizer folder, tokenizer.json or .gguf file.") var model: String
    @Option(help: "JSON file: a list of {\"role\", \"content\"} messages, or {\"messages\": [...]}.") var messages:
        String
    @Flag(name: .customLong("no-generation-prompt"), help: "Do not open an assistant turn at the end.")
    var noGenerationPrompt = false

    func run() throws {
        let template = try ChatTemplate.load(from: URL(fileURLWithPath: (model as NSString).expandingTildeInPath))
        let path = (messages as NSString).expandingTildeInPath
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let list: [ChatMessage]
        do {
            if let wrapped = try? JSONDecoder().decode([String: [ChatMessage]].self, from: data),
                let m = wrapped["messages"]
            {
                list = m
            } else {
                list = try JSONDecoder().decode([ChatMessage].self, from: data)
            }
        } catch {
            throw ValidationError("\(path): expected a JSON list of {\"role\", \"content\"} messages: \(error)")
        }
        let prompt = try template.render(messages: list, addGenerationPrompt: !noGenerationPrompt)
        FileHandle.standardOutput.write(Data(prompt.utf8))
    }
}
