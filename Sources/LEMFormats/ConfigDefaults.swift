import LEMCore

/// The values transformers' config classes give keys a `config.json` leaves out, one table per
/// `model_type`.
///
/// transformers 4.x saved configs with `use_diff=True`: a key whose value equals the class default
/// is not written (Gemma 3 4B's `text_config` has no `num_attention_heads` or `vocab_size`). A key
/// absent from the file reads as the table's entry; a key written as `null` stays null. Values
/// copied from the `__init__` defaults of transformers 4.57 and 5.25 (identical for these keys);
/// keys without an entry have no default there (`num_key_value_heads` of Llama falls back to the
/// head count, `head_dim` to `hidden_size / num_attention_heads`, as in transformers).
/// `Scripts/fixtures_short_configs.py` writes short configs and transformers' expansion of them.
enum ConfigDefaults {
    /// The defaults for `modelType`, or an empty table for a type without one.
    static func table(for modelType: String) -> JSONObject {
        switch modelType {
        case "gemma3_text": gemma3Text
        case "llama": llama
        case "mistral": mistral
        case "qwen2": qwen2
        case "gpt_oss": gptOss
        default: [:]
        }
    }

    /// The transformers class whose defaults `table(for:)` holds, for messages and docs.
    static func className(for modelType: String) -> String? {
        switch modelType {
        case "gemma3_text": "Gemma3TextConfig"
        case "llama": "LlamaConfig"
        case "mistral": "MistralConfig"
        case "qwen2": "Qwen2Config"
        case "gpt_oss": "GptOssConfig"
        default: nil
        }
    }

    /// `Gemma3TextConfig` (also the `text_config` of `Gemma3Config`, multimodal Gemma 3).
    static let gemma3Text: JSONObject = [
        "vocab_size": .int(262_208),
        "hidden_size": .int(2304),
        "intermediate_size": .int(9216),
        "num_hidden_layers": .int(26),
        "num_attention_heads": .int(8),
        "num_key_value_heads": .int(4),
        "head_dim": .int(256),
        "hidden_activation": .string("gelu_pytorch_tanh"),
        "max_position_embeddings": .int(131_072),
        "rms_norm_eps": .double(1e-6),
        "pad_token_id": .int(0),
        "eos_token_id": .int(1),
        "bos_token_id": .int(2),
        "tie_word_embeddings": .bool(true),
        "rope_theta": .double(1_000_000),
        "rope_local_base_freq": .double(10_000),
        "attention_bias": .bool(false),
        "query_pre_attn_scalar": .int(256),
        "sliding_window": .int(4096),
        "sliding_window_pattern": .int(6)
    ]

    /// `LlamaConfig` (Llama 3.x, SmolLM2).
    static let llama: JSONObject = [
        "vocab_size": .int(32_000),
        "hidden_size": .int(4096),
        "intermediate_size": .int(11_008),
        "num_hidden_layers": .int(32),
        "num_attention_heads": .int(32),
        "hidden_act": .string("silu"),
        "max_position_embeddings": .int(2048),
        "rms_norm_eps": .double(1e-6),
        "bos_token_id": .int(1),
        "eos_token_id": .int(2),
        "tie_word_embeddings": .bool(false),
        "rope_theta": .double(10_000),
        "attention_bias": .bool(false)
    ]

    /// `MistralConfig` (Mistral 7B v0.1–v0.3).
    static let mistral: JSONObject = [
        "vocab_size": .int(32_000),
        "hidden_size": .int(4096),
        "intermediate_size": .int(14_336),
        "num_hidden_layers": .int(32),
        "num_attention_heads": .int(32),
        "num_key_value_heads": .int(8),
        "hidden_act": .string("silu"),
        "max_position_embeddings": .int(4096 * 32),
        "rms_norm_eps": .double(1e-6),
        "bos_token_id": .int(1),
        "eos_token_id": .int(2),
        "tie_word_embeddings": .bool(false),
        "rope_theta": .double(10_000),
        "sliding_window": .int(4096)
    ]

    /// `Qwen2Config` (Qwen 2 / 2.5); q/k/v always carry biases, whatever the config says.
    static let qwen2: JSONObject = [
        "vocab_size": .int(151_936),
        "hidden_size": .int(4096),
        "intermediate_size": .int(22_016),
        "num_hidden_layers": .int(32),
        "num_attention_heads": .int(32),
        "num_key_value_heads": .int(32),
        "hidden_act": .string("silu"),
        "max_position_embeddings": .int(32_768),
        "rms_norm_eps": .double(1e-6),
        "tie_word_embeddings": .bool(false),
        "rope_theta": .double(10_000),
        "use_sliding_window": .bool(false),
        "sliding_window": .int(4096),
        "max_window_layers": .int(28)
    ]

    /// `GptOssConfig` (gpt-oss-20b's sizes); absent RoPE settings are its YaRN defaults.
    static let gptOss: JSONObject = [
        "vocab_size": .int(201_088),
        "hidden_size": .int(2880),
        "intermediate_size": .int(2880),
        "num_hidden_layers": .int(36),
        "num_attention_heads": .int(64),
        "num_key_value_heads": .int(8),
        "head_dim": .int(64),
        "num_local_experts": .int(128),
        "num_experts_per_tok": .int(4),
        "sliding_window": .int(128),
        "hidden_act": .string("silu"),
        "max_position_embeddings": .int(131_072),
        "rms_norm_eps": .double(1e-5),
        "tie_word_embeddings": .bool(false),
        "rope_theta": .double(150_000),
        "attention_bias": .bool(true),
        "swiglu_alpha": .double(1.702),
        "swiglu_limit": .double(7.0),
        "rope_scaling": .object([
            "rope_type": .string("yarn"), "factor": .double(32), "beta_fast": .double(32), "beta_slow": .double(1),
            "truncate": .bool(false), "original_max_position_embeddings": .int(4096)
        ])
    ]
}
