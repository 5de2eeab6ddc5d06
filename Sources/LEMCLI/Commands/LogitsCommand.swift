import ArgumentParser
import Foundation
import LEMApp
import LEMEngine

/// `lem logits`: the model's logits for a token sequence, as JSON.
struct LogitsCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "logits",
        abstract: "Print next-token logits as JSON {\"input_ids\": [...], \"logits\": [[...]]}.")

    @OptionGroup var model: ModelOption
    @Option(help: "Text to tokenize (needs the model's tokenizer).") var text: String?
    @Option(help: "Comma-separated token ids, e.g. 1,2,3.") var ids: String?
    @Flag(help: "Logits of every position instead of only the last.") var allPositions = false

    func validate() throws {
        if (text == nil) == (ids == nil) { throw ValidationError("give exactly one of --text or --ids") }
    }

    func run(in context: AppContext) async throws {
        let loaded = try model.load(in: context, requireTokenizer: text != nil)
        let lm = loaded.model
        let inputIds = try ids.map(parseIds) ?? loaded.encode(text ?? "", addSpecialTokens: true)
        let logits = try lm.forward(tokens: inputIds, cache: lm.makeCache(), logits: allPositions ? .all : .last)
        let v = lm.config.vocabSize
        var out = "{\"input_ids\": [" + inputIds.map(String.init).joined(separator: ", ") + "], \"logits\": ["
        for row in 0..<logits.count / v {
            if row > 0 { out += ", " }
            out += "[" + logits[(row * v)..<(row * v + v)].map { "\($0)" }.joined(separator: ", ") + "]"
        }
        out += "]}"
        print(out)
    }
}
