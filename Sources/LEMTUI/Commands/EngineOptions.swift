import ArgumentParser
import Foundation
import LEMEngine
import LEMFormats

/// Options shared by the engine subcommands: which model to load.
struct ModelOption: ParsableArguments {
    @Option(name: .long, help: "A .gguf file or a model directory (config.json + safetensors). Default: the installed SmolLM2.")
    var model: String?
    @Option(name: .customLong("adapter-path"), help: "A LoRA/DoRA adapter folder (mlx_lm adapters.safetensors or PEFT adapter_model.safetensors) applied unfused.")
    var adapterPath: String?
    @Option(name: .customLong("adapter-scale"), help: "Multiplies the adapter's own scale: 1 = as trained, 0 = the base model.")
    var adapterScale: Float = 1

    /// The model path: `--model`, else the installed default model.
    func resolvedURL() throws -> URL {
        if let model { return URL(fileURLWithPath: (model as NSString).expandingTildeInPath) }
        let url = EngineDefaults.modelsDirectory.appendingPathComponent(EngineDefaults.defaultModelFile)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ValidationError("no --model given and the default model \(url.path) is not installed (run Scripts/setup.sh)")
        }
        return url
    }

    /// Opens the checkpoint and builds its model with the run's engine options
    /// (`EngineDefaults.options`), with `--adapter-path` applied when given.
    func load() throws -> (files: ModelFiles, model: any LanguageModel) {
        let files = try ModelFiles.open(try resolvedURL())
        let options = EngineDefaults.options
        guard let adapterPath else { return (files, try ModelFactory.makeModel(files, options: options)) }
        guard adapterScale.isFinite else { throw ValidationError("--adapter-scale must be a finite number") }
        let adapter = try InferenceAdapter(folder: URL(fileURLWithPath: (adapterPath as NSString).expandingTildeInPath))
        let model = try ModelFactory.makeModel(files, adapter: adapter, adapterScale: adapterScale, options: options)
        return (files, model)
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

    /// The sampling parameters, validated.
    func parameters() throws -> SamplingParameters {
        let p = SamplingParameters(
            temperature: temperature, topK: topK, topP: topP, minP: minP, repetitionPenalty: repetitionPenalty,
            seed: seed)
        if let message = p.validationError() { throw ValidationError(message) }
        guard maxTokens >= 0 else { throw ValidationError("--max-tokens must be >= 0") }
        return p
    }
}

/// Where models live by default, and the engine options every model of this run is built with.
enum EngineDefaults {
    /// The engine options of this run, from the environment: set once by `LEMMain.main` before
    /// the command line is parsed (no other thread exists yet), only read afterwards.
    nonisolated(unsafe) static var options = EngineOptions()

    /// `$LEM_HOME/models`, else `~/.cache/lem/models`.
    static var modelsDirectory: URL {
        if let home = ProcessInfo.processInfo.environment["LEM_HOME"], !home.isEmpty {
            return URL(fileURLWithPath: home).appendingPathComponent("models")
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/lem/models")
    }

    /// The default chat model installed by Scripts/setup.sh.
    static let defaultModelFile = "SmolLM2-135M-Instruct.Q4_1.gguf"

    /// Parses `1,2,3` (spaces allowed) into token ids.
    static func parseIds(_ text: String) throws -> [Int] {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let ids = try parts.map { part -> Int in
            guard let id = Int(part) else { throw ValidationError("--ids: '\(part)' is not an integer token id") }
            return id
        }
        guard !ids.isEmpty else { throw ValidationError("--ids: no token ids given") }
        return ids
    }
}

