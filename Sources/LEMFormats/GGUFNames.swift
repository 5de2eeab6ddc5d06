/// GGUF tensor names ↔ Hugging Face names for the architectures this module maps.
///
/// Follows gguf-py's `tensor_mapping.py`: for llama/qwen2 `ffn_norm` is the
/// `post_attention_layernorm` (the pre-MLP norm), while Gemma 3 has four norms per block
/// (`attn_norm` → `input_layernorm`, `post_attention_norm` → `post_attention_layernorm`,
/// `ffn_norm` → `pre_feedforward_layernorm`, `post_ffw_norm` → `post_feedforward_layernorm`).
public enum GGUFNames {
    /// The Hugging Face name of GGUF tensor `gguf` in a model of `architecture`, nil if unknown.
    public static func hfName(_ gguf: String, architecture: String) -> String? {
        switch gguf {
        case "token_embd.weight": return "model.embed_tokens.weight"
        case "output_norm.weight": return "model.norm.weight"
        case "output.weight": return "lm_head.weight"
        default: break
        }
        let parts = gguf.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "blk", let layer = Int(parts[1]), layer >= 0 else { return nil }
        let suffix = parts[3]
        guard suffix == "weight" || suffix == "bias" else { return nil }
        let gemma = architecture.hasPrefix("gemma")
        if parts[2] == "attn_sinks" && suffix == "weight" { return "model.layers.\(layer).self_attn.sinks" }
        let module: String
        switch parts[2] {
        case "attn_q": module = "self_attn.q_proj"
        case "attn_k": module = "self_attn.k_proj"
        case "attn_v": module = "self_attn.v_proj"
        case "attn_output": module = "self_attn.o_proj"
        case "attn_q_norm": module = "self_attn.q_norm"
        case "attn_k_norm": module = "self_attn.k_norm"
        case "attn_norm": module = "input_layernorm"
        case "ffn_norm": module = gemma ? "pre_feedforward_layernorm" : "post_attention_layernorm"
        case "post_attention_norm": module = "post_attention_layernorm"
        case "post_ffw_norm": module = "post_feedforward_layernorm"
        case "ffn_gate": module = "mlp.gate_proj"
        case "ffn_up": module = "mlp.up_proj"
        case "ffn_down": module = "mlp.down_proj"
        // GPT-OSS: the router and the experts as `GptOssExperts` presents them ([E, out, in]).
        case "ffn_gate_inp": module = "mlp.router"
        case "ffn_gate_exps": module = "mlp.experts.gate_proj"
        case "ffn_up_exps": module = "mlp.experts.up_proj"
        case "ffn_down_exps": module = "mlp.experts.down_proj"
        default: return nil
        }
        return "model.layers.\(layer).\(module).\(suffix)"
    }
}
