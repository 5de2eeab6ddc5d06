import Foundation
import LEMFormats

/// Reads the `tokenizer.*` metadata of a GGUF file (via LEMFormats' GGUF reader) into
/// `GGUFTokenizerValues`.
enum GGUFTokenizerReader {
    /// Reads the tokenizer values from a GGUF file.
    static func read(_ url: URL) throws -> GGUFTokenizerValues {
        let path = url.path
        let file: GGUFFile
        do { file = try GGUFFile(url: url) } catch {
            throw TokenizerError.invalidFile(path: path, reason: "cannot read GGUF: \(error)")
        }
        return try values(from: file, path: path)
    }

    /// The tokenizer values of an opened GGUF file.
    static func values(from file: GGUFFile, path: String) throws -> GGUFTokenizerValues {
        guard let model = file.string("tokenizer.ggml.model") else {
            throw TokenizerError.invalidFile(path: path, reason: "missing tokenizer.ggml.model metadata")
        }
        guard let tokens = file.stringArray("tokenizer.ggml.tokens") else {
            throw TokenizerError.invalidFile(
                path: path, reason: "missing tokenizer.ggml.tokens metadata (expected an array of strings)")
        }
        var v = GGUFTokenizerValues(model: model, tokens: tokens)
        v.pre = file.string("tokenizer.ggml.pre")
        v.scores = file.floatArray("tokenizer.ggml.scores")
        v.tokenTypes = file.intArray("tokenizer.ggml.token_type")
        v.merges = file.stringArray("tokenizer.ggml.merges")
        v.bosId = file.int("tokenizer.ggml.bos_token_id")
        v.eosId = file.int("tokenizer.ggml.eos_token_id")
        v.unknownId = file.int("tokenizer.ggml.unknown_token_id")
        for key in ["tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"] {
            if let id = file.int(key) { v.extraEosIds.append(id) }
        }
        v.addBos = file.bool("tokenizer.ggml.add_bos_token")
        v.addEos = file.bool("tokenizer.ggml.add_eos_token")
        v.addSpacePrefix = file.bool("tokenizer.ggml.add_space_prefix")
        v.chatTemplate = file.string("tokenizer.chat_template")
        return v
    }
}
