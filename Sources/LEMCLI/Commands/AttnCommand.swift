import ArgumentParser
import Foundation
import LEMApp
import LEMCore
import LEMEngine

/// `lem attn`: attention probabilities, per-head statistics and K-vector bone orientation for a
/// token sequence, optionally compared with a second model.
struct AttnCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "attn",
        abstract: "Per-head attention statistics and K-vector bone orientation (docs/ATTENTION.md).",
        discussion: """
            Input: exactly one of --text, --ids or --chat FILE (a JSON chat: {"system": ..., "messages": \
            [{"role", "content"}]} or a bare array of messages; a final assistant message is analysed as the \
            answer). --generate N appends N greedy tokens and analyses prompt + answer. \
            Memory: heads × T × T floats per layer for the maps, reported on stderr before running.
            """)

    @OptionGroup var model: ModelOption
    @Option(help: "Text to tokenize (BOS added as the tokenizer says).") var text: String?
    @Option(help: "Comma-separated token ids, e.g. 1,2,3.") var ids: String?
    @Option(help: "A JSON chat file rendered with the model's chat template.") var chat: String?
    @Option(help: "Only this layer in the output.") var layer: Int?
    @Option(help: "Only this head in the output.") var head: Int?
    @Flag(help: "Include the full probability maps (JSON only).") var maps = false
    @Option(help: "A second model to compare with on the same tokens.") var compareModel: String?
    @Option(
        help: "An adapter folder to compare with: applied to --compare-model, else to --model (without --adapter-path)."
    )
    var compareAdapter: String?
    @Option(help: "Greedy tokens to generate and analyse after the prompt.") var generate: Int = 0
    @Option(help: "Cap on analysed tokens (maps need heads × T × T floats per layer).") var maxTokens: Int =
        AttentionCapture.defaultMaxTokens
    @Option(help: "Output format: json, csv or text.") var format: String = "json"

    func validate() throws {
        if [text, ids, chat].compactMap({ $0 }).count != 1 {
            throw ValidationError("give exactly one of --text, --ids or --chat")
        }
        guard ["json", "csv", "text"].contains(format) else {
            throw ValidationError("--format must be json, csv or text, not '\(format)'")
        }
        guard generate >= 0 else { throw ValidationError("--generate must be >= 0") }
        guard maxTokens > 0 else { throw ValidationError("--max-tokens must be > 0") }
    }

    func run(in context: AppContext) async throws {
        let loaded = try model.load(in: context, requireTokenizer: false)
        let lm = loaded.model
        let promptIds = try inputIds(loaded)
        let config = lm.config
        try Self.checkRange(layer, config.numHiddenLayers, "--layer")
        try Self.checkRange(head, config.numAttentionHeads, "--head")
        let total = promptIds.count + generate
        let mb = Double(AttentionCapture.estimatedBytes(config: config, tokens: total)) / 1_048_576
        printError(
            String(
                format: "capture: %d tokens × %d layers × %d heads → %.1f MB (cap %d tokens)",
                total, config.numHiddenLayers, config.numAttentionHeads, mb, maxTokens))
        let stopIds = loaded.chatStopIds
        let (capture, allIds) = try AttentionRunner.capture(
            model: lm, ids: promptIds, generate: generate, stopIds: stopIds, maxTokens: maxTokens)
        let needMaps = maps || compareModel != nil || compareAdapter != nil
        let analysis = try AttentionAnalysis(capture: capture, ids: allIds, keepMaps: needMaps)
        var comparison: (String, AttentionComparison)?
        if compareModel != nil || compareAdapter != nil {
            let url = try compareModel.map { try context.resolveModel($0) } ?? loaded.key.modelURL
            let adapterURL = compareAdapter.map { context.paths.resolve($0) }
            let otherModel = try context.load(ModelKey(model: url, adapter: adapterURL), requireTokenizer: false).model
            let (otherCapture, _) = try AttentionRunner.capture(model: otherModel, ids: allIds, maxTokens: maxTokens)
            let b = try AttentionAnalysis(capture: otherCapture, ids: allIds, keepMaps: true)
            let label = url.lastPathComponent + (adapterURL.map { " + " + $0.lastPathComponent } ?? "")
            comparison = (label, try AttentionComparison(analysis, b))
        }
        let tokens = allIds.map { id in loaded.tokenizer.map { $0.decode([id]) } ?? "<\(id)>" }
        let report = AttentionReport(
            model: loaded.key.modelURL.lastPathComponent, tokens: tokens, analysis: analysis, comparison: comparison,
            layer: layer, head: head, includeMaps: maps)
        switch format {
        case "csv": print(report.csv())
        case "text": print(report.text())
        default: print(report.json())
        }
    }

    static func checkRange(_ value: Int?, _ count: Int, _ name: String) throws {
        if let value, value < 0 || value >= count { throw ValidationError("\(name) \(value) is outside 0..<\(count)") }
    }

    /// The token ids to analyse from --ids, --text or --chat.
    func inputIds(_ loaded: LoadedModel) throws -> [Int] {
        if let ids { return try parseIds(ids) }
        guard loaded.tokenizer != nil else { throw ValidationError("this model has no tokenizer; use --ids") }
        if let text { return try loaded.encode(text, addSpecialTokens: true) }
        let path = (chat ?? "") as NSString
        let turns = try Self.readChat(URL(fileURLWithPath: path.expandingTildeInPath))
        guard loaded.template != nil else { throw ValidationError("this model has no chat template; use --text") }
        // A final assistant turn is part of the analysed text, so no generation prompt after it.
        return try loaded.promptIds(messages: turns, addGenerationPrompt: turns.last?.role != .assistant)
    }

    /// Reads `{"system"?, "messages": [...]}` or `[...]` of `{"role", "content"}`.
    static func readChat(_ url: URL) throws -> [ChatMessage] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ValidationError("--chat: cannot read \(url.path): \(error.localizedDescription)")
        }
        struct Transcript: Decodable {
            var system: String?
            var messages: [ChatMessage]
        }
        let decoder = JSONDecoder()
        var turns: [ChatMessage]
        if let t = try? decoder.decode(Transcript.self, from: data) {
            turns = t.messages
            if let system = t.system, !system.isEmpty { turns.insert(.system(system), at: 0) }
        } else if let list = try? decoder.decode([ChatMessage].self, from: data) {
            turns = list
        } else {
            throw ValidationError(
                "--chat: \(url.path) is not a chat: expected {\"messages\": [{\"role\", \"content\"}, ...]} or an array of such messages"
            )
        }
        guard !turns.isEmpty else { throw ValidationError("--chat: \(url.path) has no messages") }
        for (i, t) in turns.enumerated() where ![ChatRole.system, .user, .assistant].contains(t.role) {
            throw ValidationError(
                "--chat: \(url.path) message \(i) has role '\(t.role)', expected system, user or assistant")
        }
        return turns
    }
}
