import ArgumentParser
import Foundation
import LEMTrainer

/// `lem fuse`: merges a LoRA/DoRA adapter into its base and writes a standalone model folder
/// (`mlx_lm.fuse`).
struct FuseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuse",
        abstract:
            "Merge a LoRA/DoRA adapter (mlx_lm or PEFT folder) into its base model and save a standalone model (mlx_lm.fuse).",
        discussion: """
            The result (safetensors + config.json + tokenizer files) loads in lem, transformers and mlx_lm.
            f32/bf16 bases keep their dtypes. MLX-quantized bases keep untouched layers and re-quantize the
            fused ones, or become f32 with --dequantize. GGUF bases are always written as f32 safetensors,
            with the tokenizer kept as a tensor-free tokenizer.gguf.
            """)

    @Option(help: "Base model: a directory (config.json + safetensors, MLX-quantized too) or a .gguf file.") var model:
        String
    @Option(help: "The adapter folder (adapters.safetensors or adapter_model.safetensors + adapter_config.json).")
    var adapterPath: String
    @Option(help: "Folder to write; must not exist.") var savePath: String = "fused_model"
    @Option(help: "Multiplies the adapter's own scale (1 = as trained).") var adapterScale: Float = 1
    @Flag(help: "Store every weight as f32 (needed for transformers when the base is MLX-quantized).") var dequantize =
        false
    @Option(help: "GGUF export is not supported; only 'no' is accepted.") var exportGguf: String = "no"

    func validate() throws {
        guard exportGguf == "no" else {
            throw ValidationError("--export-gguf: exporting GGUF is not supported (use 'no')")
        }
        guard adapterScale.isFinite else { throw ValidationError("--adapter-scale must be a finite number") }
    }

    func run() throws {
        func url(_ path: String) -> URL { URL(fileURLWithPath: (path as NSString).expandingTildeInPath) }
        let start = Date()
        let result = try ModelFuser.fuse(
            model: url(model), adapterFolder: url(adapterPath), output: url(savePath), dequantize: dequantize,
            adapterScale: adapterScale)
        print("fused \(result.fusedModules) layers into \(result.output.path)")
        print("weights: \(result.weightFormat), \(result.tensorCount) tensors in \(result.shards) file(s)")
        print(
            "tokenizer: \(result.tokenizerFiles.isEmpty ? "none found to copy" : result.tokenizerFiles.joined(separator: ", "))"
        )
        print(String(format: "done in %.1f s", Date().timeIntervalSince(start)))
    }
}
