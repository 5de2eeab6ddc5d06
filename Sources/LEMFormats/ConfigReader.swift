import Foundation
import LEMCore

/// Typed access to one JSON object of a config file, with errors naming the file and the key.
///
/// A key absent from the object reads as its entry in `defaults` (transformers' class defaults,
/// `ConfigDefaults`); a key present as `null` reads as absent.
struct ConfigReader {
    let file: URL
    let keys: JSONObject
    /// Prepended to key names in messages (`text_config.` for multimodal Gemma 3).
    let prefix: String
    /// Values for absent keys.
    var defaults: JSONObject = [:]
    /// The transformers class `defaults` comes from, named when a required key has no default.
    var defaultsName: String? = nil

    /// The stated value of `key`, else its default; nil when neither exists.
    func value(_ key: String) -> JSONValue? { keys[key] ?? defaults[key] }

    private func missing(_ key: String) -> FormatError {
        if let v = keys[key], v.isNull { return FormatError(file, "key '\(prefix)\(key)' is null, expected a value") }
        let why = defaultsName.map { " (\($0) has no default for it)" } ?? ""
        return FormatError(file, "missing required key '\(prefix)\(key)'\(why)")
    }

    private func wrongType(_ key: String, _ v: JSONValue, _ expected: String) -> FormatError {
        FormatError(file, "key '\(prefix)\(key)' is \(v.kind), expected \(expected)")
    }

    /// The value of `key` read by `read`, else `missing`; for required keys.
    private func required<T>(_ key: String, _ read: (String) throws -> T?) throws -> T {
        guard let t = try read(key) else { throw missing(key) }
        return t
    }

    func requiredString(_ key: String) throws -> String { try required(key, string) }

    func requiredInt(_ key: String) throws -> Int { try required(key, int) }

    func requiredDouble(_ key: String) throws -> Double { try required(key, double) }

    /// The value of `key` read by `read`; nil when absent or null, an error saying it must be
    /// `expected` when `read` gives nil.
    private func typed<T>(_ key: String, _ expected: String, _ read: (JSONValue) -> T?) throws -> T? {
        guard let v = value(key), !v.isNull else { return nil }
        guard let t = read(v) else { throw wrongType(key, v, expected) }
        return t
    }

    /// nil when absent or null.
    func string(_ key: String) throws -> String? { try typed(key, "a string") { $0.string } }

    func int(_ key: String) throws -> Int? { try typed(key, "an integer") { $0.int } }

    func double(_ key: String) throws -> Double? { try typed(key, "a number") { $0.double } }

    func bool(_ key: String) throws -> Bool? { try typed(key, "true or false") { $0.bool } }

    func object(_ key: String) throws -> JSONObject? { try typed(key, "an object") { $0.object } }

    func array(_ key: String) throws -> [JSONValue]? { try typed(key, "an array") { $0.array } }

    /// A token id given as an integer or a list of integers (`eos_token_id`).
    func tokenIds(_ key: String) throws -> [Int]? {
        guard let v = value(key), !v.isNull else { return nil }
        if let i = v.int { return [i] }
        if let a = v.array {
            let ids = a.compactMap(\.int)
            if ids.count == a.count { return ids }
        }
        throw wrongType(key, v, "an integer or a list of integers")
    }

    /// One RoPE parameter set: `rope_type` (or `type`), `rope_theta`, scaling factors.
    func ropeParameters(_ value: JSONValue, key: String) throws -> (theta: Double?, scaling: ModelConfig.RopeScaling) {
        guard case .object(let o) = value else {
            throw FormatError(file, "key '\(prefix)\(key)' is \(value.kind), expected an object")
        }
        let sub = ConfigReader(file: file, keys: o, prefix: "\(prefix)\(key).")
        let theta = try sub.double("rope_theta")
        let type = try sub.string("rope_type") ?? sub.string("type") ?? "default"
        switch type {
        case "default":
            return (theta, .none)
        case "linear":
            guard let factor = try sub.double("factor") else {
                throw FormatError(file, "missing required key '\(prefix)\(key).factor' for linear RoPE scaling")
            }
            return (theta, factor == 1 ? .none : .linear(factor: factor))
        case "llama3":
            func need(_ k: String) throws -> Double {
                guard let v = try sub.double(k) else {
                    throw FormatError(file, "missing required key '\(prefix)\(key).\(k)' for llama3 RoPE scaling")
                }
                return v
            }
            return (
                theta,
                .llama3(
                    factor: try need("factor"), lowFreqFactor: try need("low_freq_factor"),
                    highFreqFactor: try need("high_freq_factor"),
                    originalMaxPositions: try wholeNumber(
                        need("original_max_position_embeddings"),
                        key: "\(prefix)\(key).original_max_position_embeddings"))
            )
        case "yarn":
            // transformers `_compute_yarn_parameters`: beta_fast/beta_slow `or` 32/1, truncate
            // defaults to true, attention_factor from mscale/mscale_all_dim or 0.1·ln(factor) + 1.
            guard let factor = try sub.double("factor") else {
                throw FormatError(file, "missing required key '\(prefix)\(key).factor' for yarn RoPE scaling")
            }
            guard let original = try sub.double("original_max_position_embeddings") else {
                throw FormatError(
                    file,
                    "missing required key '\(prefix)\(key).original_max_position_embeddings' for yarn RoPE scaling")
            }
            func mscale(_ scale: Double, _ m: Double = 1) -> Double { scale <= 1 ? 1 : 0.1 * m * log(scale) + 1 }
            var attention = try sub.double("attention_factor")
            if attention == nil {
                if let m = try sub.double("mscale"), let all = try sub.double("mscale_all_dim"), m != 0, all != 0 {
                    attention = mscale(factor, m) / mscale(factor, all)
                } else {
                    attention = mscale(factor)
                }
            }
            let fast = try sub.double("beta_fast") ?? 0
            let slow = try sub.double("beta_slow") ?? 0
            return (
                theta,
                .yarn(
                    factor: factor, betaFast: fast == 0 ? 32 : fast, betaSlow: slow == 0 ? 1 : slow,
                    originalMaxPositions: try wholeNumber(
                        original, key: "\(prefix)\(key).original_max_position_embeddings"),
                    truncate: try sub.bool("truncate") ?? true, attentionFactor: attention ?? 1)
            )
        default:
            throw FormatError(
                file,
                "'\(prefix)\(key)': RoPE type '\(type)' is not supported (supported: default, linear, llama3, yarn)")
        }
    }

    /// A float setting that must be a whole number an `Int` holds (no trap on NaN or 1e300).
    func wholeNumber(_ v: Double, key: String) throws -> Int {
        guard v.isFinite, v.rounded() == v, let i = Int(exactly: v) else {
            throw FormatError(file, "key '\(key)' is \(v), expected a whole number")
        }
        return i
    }

    /// The MLX quantization object: `quantization`, else an MLX-style `quantization_config`
    /// (one with `group_size` and `bits` and no `quant_method`; transformers' GGUF, GPTQ or
    /// bitsandbytes configs are not MLX's and are ignored).
    func mlxQuantizationObject() throws -> JSONObject? {
        if let q = try object("quantization") { return q }
        guard let q = try object("quantization_config"), q["quant_method"] == nil,
            q["group_size"] != nil, q["bits"] != nil
        else { return nil }
        return q
    }

    /// MLX's `quantization: {group_size, bits}`, nil when absent.
    func quantization() throws -> ModelConfig.Quantization? {
        guard let q = try mlxQuantizationObject() else { return nil }
        return try mlxQuantizationEntry(q, key: "quantization")
    }

    /// Per-module overrides inside `quantization` (`"model.layers.0.mlp.down_proj": {group_size, bits}`).
    func quantizationOverrides() throws -> [String: ModelConfig.Quantization]? {
        guard let q = try mlxQuantizationObject() else { return nil }
        var out: [String: ModelConfig.Quantization] = [:]
        for (module, v) in q {
            guard case .object(let o) = v else { continue }
            out[module] = try mlxQuantizationEntry(o, key: "quantization.\(module)")
        }
        return out.isEmpty ? nil : out
    }

    /// One `{group_size, bits, mode}` entry read as mlx does: `mlx.nn.quantize` hands a
    /// per-module entry to `to_quantized(**entry)`, whose null or absent `group_size` and `bits`
    /// become the mode's defaults (affine: 64 and 4) — not the top-level entry's. mlx_lm
    /// `convert --quant-predicate mixed_4_6` without `--q-group-size` writes such entries.
    func mlxQuantizationEntry(_ entry: JSONObject, key: String) throws -> ModelConfig.Quantization {
        let sub = ConfigReader(file: file, keys: entry, prefix: "\(prefix)\(key).")
        if let mode = try sub.string("mode"), mode != "affine" {
            throw FormatError(
                file, "key '\(prefix)\(key).mode' is '\(mode)': only affine MLX quantization is supported")
        }
        let group = try sub.int("group_size") ?? ModelConfig.Quantization.mlxDefaultGroupSize
        let bits = try sub.int("bits") ?? ModelConfig.Quantization.mlxDefaultBits
        guard group > 0, bits > 0 else {
            throw FormatError(
                file, "key '\(prefix)\(key)' has group_size \(group) and bits \(bits), expected positive values")
        }
        return ModelConfig.Quantization(groupSize: group, bits: bits)
    }
}
