import ArgumentParser
import Foundation
import LEMApp
import LEMCore
import LEMEngine
import LEMStore

/// Options shared by the engine subcommands: which model to load.
struct ModelOption: ParsableArguments {
    @Option(
        name: .long,
        help:
            "A .gguf file, a model directory (config.json + safetensors), or ORG/NAME in the Hugging Face cache. Default: the installed SmolLM2."
    )
    var model: String?
    @Option(
        name: .customLong("adapter-path"),
        help:
            "A LoRA/DoRA adapter folder (mlx_lm adapters.safetensors or PEFT adapter_model.safetensors) applied unfused."
    )
    var adapterPath: String?
    @Option(
        name: .customLong("adapter-scale"),
        help: "Multiplies the adapter's own scale: 1 = as trained, 0 = the base model.")
    var adapterScale: Float = 1

    /// The model path: `--model`, else the installed default model.
    func modelURL(in context: AppContext) throws -> URL {
        if let model { return try context.resolveModel(model) }
        let url = context.paths.defaultModel
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ValidationError(
                "no --model given and the default model \(url.path) is not installed (run Scripts/setup.sh)")
        }
        return url
    }

    /// The model, adapter and scale the options name.
    func key(in context: AppContext) throws -> ModelKey {
        guard adapterScale.isFinite else { throw ValidationError("--adapter-scale must be a finite number") }
        return ModelKey(
            model: try modelURL(in: context), adapter: adapterPath.map { context.paths.resolve($0) },
            scale: adapterScale)
    }

    /// Loads the model (with `--adapter-path` applied when given); a missing tokenizer is an
    /// error only when `requireTokenizer`.
    func load(in context: AppContext, requireTokenizer: Bool = true) throws -> LoadedModel {
        try context.load(try key(in: context), requireTokenizer: requireTokenizer)
    }
}

/// Sampling options shared by `generate` and `chat`.
struct SamplingOptions: ParsableArguments {
    @Option(help: "Most tokens to generate.") var maxTokens: Int = 256
    @Option(help: "Sampling temperature; 0 is greedy.") var temperature: Float = 0
    @Option(help: "Nucleus sampling mass, 1 disables.") var topP: Float = 1
    @Option(help: "Keep the K most likely tokens, 0 disables.") var topK: Int = 0
    @Option(help: "Drop tokens below P × the top probability, 0 disables.") var minP: Float = 0
    @Option(help: "Penalty on tokens already in the context, 1 disables.") var repetitionPenalty: Float = 1
    @Option(help: "Random seed, for reproducible sampling.") var seed: UInt64 = 0

    /// The sampling settings, validated.
    func settings() throws -> SamplingSettings {
        let s = SamplingSettings(
            temperature: Double(temperature), topP: Double(topP), topK: topK, minP: Double(minP),
            repetitionPenalty: Double(repetitionPenalty), maxTokens: maxTokens, seed: seed)
        if let message = s.validationError() { throw ValidationError(message) }
        return s
    }
}

/// The `--db` option shared by the bench subcommands and the workbench.
struct DatabaseOption: ParsableArguments {
    @Option(name: .long, help: "Results database (default ~/.local/share/lem/lem.sqlite).")
    var db: String?

    /// The database file: `--db`, else the context's.
    func url(in context: AppContext) -> URL { db.map { context.paths.resolve($0) } ?? context.database }

    /// Opens the store, creating and migrating the file if needed.
    func open(in context: AppContext) throws -> ResultStore { try ResultStore(url: url(in: context)) }
}

/// Parses `1,2,3` (spaces allowed) into token ids.
func parseIds(_ text: String) throws -> [Int] {
    let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    let ids = try parts.map { part -> Int in
        guard let id = Int(part) else { throw ValidationError("--ids: '\(part)' is not an integer token id") }
        return id
    }
    guard !ids.isEmpty else { throw ValidationError("--ids: no token ids given") }
    return ids
}
