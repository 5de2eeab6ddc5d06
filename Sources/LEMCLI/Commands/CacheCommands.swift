import ArgumentParser
import Foundation
import LEMApp
import LEMCore
import LEMEngine
import LEMFormats

/// Where a `--prompt-cache-file` argument points: a path with a directory part as given, a bare
/// name under the prompt-cache directory (`$LEM_HOME/prompt-caches`).
func promptCacheURL(_ argument: String, in context: AppContext) -> URL {
    argument.contains("/")
        ? context.paths.resolve(argument) : context.paths.promptCaches.appendingPathComponent(argument)
}

/// `lem cache-prompt`: computes a prompt once and saves its state (mlx-lm's prompt-cache format).
struct CachePromptCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache-prompt",
        abstract: "Compute a prompt and save its state as an mlx-lm compatible prompt cache (.safetensors).",
        discussion: """
            Continue from it with `lem generate --prompt-cache-file F`; mlx_lm.generate --prompt-cache-file \
            reads it too. A bare file name goes to $LEM_HOME/prompt-caches (listed by `lem cache ls`).
            """)

    @OptionGroup var model: ModelOption
    @Option(help: "Prompt text (needs the model's tokenizer).") var prompt: String?
    @Option(help: "Comma-separated prompt token ids, e.g. 1,2,3.") var ids: String?
    @Flag(help: "Render the prompt as a user message in the model's chat template (with the generation prompt).")
    var chat = false
    @Option(help: "System message for --chat (e.g. the ethics kernel).") var system: String?
    @Option(name: .customLong("prompt-cache-file"), help: "The cache file to write.") var file: String
    @Option(
        help:
            "Element type of the stored keys and values: f32 (exact), f16 or bf16 (half the file, rounded; mlx-lm writes a model's own dtype)."
    ) var dtype: String = "f32"

    func validate() throws {
        if (prompt == nil) == (ids == nil) { throw ValidationError("give exactly one of --prompt or --ids") }
        if chat && prompt == nil { throw ValidationError("--chat needs --prompt") }
        if system != nil && !chat { throw ValidationError("--system needs --chat") }
        _ = try storedType()
    }

    /// The `--dtype` as a safetensors type.
    func storedType() throws -> SafetensorsDType {
        guard let type = SafetensorsDType(rawValue: dtype.uppercased()), PromptCacheFile.storableTypes.contains(type)
        else { throw ValidationError("--dtype: expected f32, f16 or bf16, got '\(dtype)'") }
        return type
    }

    func run(in context: AppContext) async throws {
        let loaded = try model.load(in: context, requireTokenizer: prompt != nil)
        let tokens: [Int]
        if let ids {
            tokens = try parseIds(ids)
        } else if chat {
            var messages: [ChatMessage] = []
            if let system { messages.append(.system(system)) }
            messages.append(.user(prompt ?? ""))
            tokens = try loaded.promptIds(messages: messages)
        } else {
            tokens = try loaded.encode(prompt ?? "", addSpecialTokens: true)
        }
        let url = promptCacheURL(file, in: context)
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let start = DispatchTime.now().uptimeNanoseconds
        var extra = ["model": loaded.key.model]
        if let template = loaded.tokenizer?.chatTemplateSource { extra["chat_template"] = template }
        let snapshot = try loaded.savePromptCache(ids: tokens, to: url, extra: extra, dtype: try storedType())
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let bytes = ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int) ?? 0
        printError(
            String(
                format: "cached %d tokens in %.2f s: %@ (%.1f MB)", snapshot.count, seconds, url.path,
                Double(bytes) / 1e6))
    }
}

/// `lem cache`: look at saved prompt caches.
struct CacheCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache", abstract: "Inspect and list saved prompt caches.",
        subcommands: [CacheInspectCommand.self, CacheListCommand.self])
}

/// `lem cache inspect F`: what a prompt-cache file holds.
struct CacheInspectCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Print a prompt cache's identity, tokens (decoded) and size.")

    @Argument(help: "The cache file (a bare name is looked up in $LEM_HOME/prompt-caches).") var file: String
    @Option(help: "The model to read it with (default: the one the file names, else the installed default).")
    var model: String?

    func run(in context: AppContext) async throws {
        let url = promptCacheURL(file, in: context)
        let header = try SafetensorsFile(url: url)
        let named = model ?? header.metadata["0.lem.model"] ?? header.metadata["0.model"]
        let key = try ModelOption.parse(named.map { ["--model", $0] } ?? []).key(in: context)
        let loaded = try context.load(key, requireTokenizer: false)
        let contents = try PromptCacheFile.read(url, config: loaded.config)
        let identity = loaded.promptCacheIdentity
        print("file        \(url.path) (\(String(format: "%.1f", Double(contents.fileBytes) / 1e6)) MB)")
        print("producer    \(contents.metadata["lem.producer"] ?? "mlx-lm (no lem identity)")")
        print("model       \(contents.metadata["lem.model"] ?? contents.metadata["model"] ?? "not recorded")")
        print("positions   \(contents.snapshot.count) over \(contents.snapshot.layers.count) layers")
        for key in contents.metadata.keys.sorted() where key.hasPrefix("lem.") && key != "lem.tokens" {
            let value = contents.metadata[key] ?? ""
            let mark = identity[key].map { $0 == value ? "" : "  (differs from \(loaded.key.title))" } ?? ""
            print("\(key.padding(toLength: 26, withPad: " ", startingAt: 0)) \(value.prefix(80))\(mark)")
        }
        if contents.tokensKnown {
            let tokens = contents.snapshot.tokens
            print(
                "tokens      \(tokens.prefix(32).map(String.init).joined(separator: ","))\(tokens.count > 32 ? ",…" : "")"
            )
            if let tokenizer = loaded.tokenizer {
                let text = tokenizer.decode(tokens)
                print("text        \(ErrorText.clip(text, limit: 400))")
            }
        } else {
            print("tokens      not recorded (an mlx-lm cache)")
        }
    }
}

/// `lem cache ls`: the prompt caches in the cache directory.
struct CacheListCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls", abstract: "List saved prompt caches ($LEM_HOME/prompt-caches, or DIRECTORY).")

    @Argument(help: "Directory to list instead.") var directory: String?

    func run(in context: AppContext) async throws {
        let dir = directory.map { context.paths.resolve($0) } ?? context.paths.promptCaches
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter {
            $0.hasSuffix(".safetensors")
        }
        if names.isEmpty {
            print("no prompt caches in \(dir.path) (lem cache-prompt --prompt-cache-file NAME.safetensors …)")
            return
        }
        for name in names.sorted() {
            let url = dir.appendingPathComponent(name)
            guard let header = try? SafetensorsFile(url: url), header.metadata["1.0"] != nil else {
                print("\(name)  (not a prompt cache)")
                continue
            }
            let tokens = header.metadata["0.lem.tokens"].map { text in
                text.split(separator: ",").count
            }
            let model = header.metadata["0.lem.model"] ?? header.metadata["0.model"] ?? "?"
            let bytes = ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int) ?? 0
            print(
                "\(name)  \(String(format: "%.1f MB", Double(bytes) / 1e6))  "
                    + "\(tokens.map { "\($0) tokens" } ?? "tokens not recorded")  \(model)")
        }
    }
}
