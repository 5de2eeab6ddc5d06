import Foundation

extension ModelFiles {
    /// Opens a `.gguf` file: configuration from its metadata, tensors renamed to Hugging Face
    /// names with llama.cpp's Q/K row permutation and Gemma's `w + 1` norms undone.
    ///
    /// Tensors without a Hugging Face counterpart (e.g. `rope_freqs.weight`) keep their GGUF name.
    static func openGGUF(_ url: URL) throws -> ModelFiles {
        let gguf = try GGUFFile(url: url)
        let config = try ModelConfig(gguf: gguf)
        let arch = gguf.architecture ?? ""
        var tensors: [String: any WeightTensor] = [:]
        for info in gguf.tensorInfos {
            let hf = GGUFNames.hfName(info.name, architecture: arch) ?? info.name
            var heads: Int? = nil
            if arch == "llama" {
                // convert_hf_to_gguf LlamaModel.permute: q over all heads, k over the KV heads.
                if hf.hasSuffix("self_attn.q_proj.weight") || hf.hasSuffix("self_attn.q_proj.bias") {
                    heads = config.numAttentionHeads
                } else if hf.hasSuffix("self_attn.k_proj.weight") || hf.hasSuffix("self_attn.k_proj.bias") {
                    heads = config.numKeyValueHeads
                }
                if let h = heads {
                    let rows = info.ne.count == 1 ? info.ne[0] : info.ne.dropFirst().reduce(1, *)
                    guard rows % (2 * h) == 0 else {
                        throw FormatError(
                            url, tensor: info.name, "\(rows) rows cannot be split into \(h) heads of even size")
                    }
                }
            }
            // convert_hf_to_gguf Gemma3Model: every "*norm.weight" is stored as w + 1.
            let shift: Float = arch.hasPrefix("gemma") && hf.hasSuffix("norm.weight") ? -1 : 0
            if tensors[hf] != nil {
                throw FormatError(url, tensor: info.name, "maps to '\(hf)' which is already taken")
            }
            tensors[hf] = GGUFTensor(name: hf, info: info, file: gguf.file, rowMapHeads: heads, shift: shift)
        }
        return ModelFiles(url: url, format: .gguf, config: config, tensors: tensors, metadata: [:], gguf: gguf)
    }

    /// The GGUF metadata (for building the tokenizer), empty for safetensors models.
    public var ggufMetadata: [String: GGUFValue] { gguf?.metadata ?? [:] }
}
