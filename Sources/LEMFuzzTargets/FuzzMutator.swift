import LEMCore

/// A seeded, coverage-free byte mutator: the test suite's short fuzz run and `lem-mutate`, for
/// machines whose toolchain has no libFuzzer.
///
/// Each call applies one to four mutations (bit flips, interesting integers, dictionary tokens,
/// deletions, repeated chunks for deep nesting, splices with another seed) to a seed picked at
/// random; the same seed value always gives the same inputs.
public struct FuzzMutator: Sendable {
    private var random: SplitMix64
    private let seeds: [[UInt8]]
    private let dictionary: [[UInt8]]

    /// A mutator over `seeds` (at least one) with `target`'s dictionary.
    public init(seeds: [[UInt8]], target: FuzzTarget, seed: UInt64) {
        self.seeds = seeds.isEmpty ? [[]] : seeds
        // One step ahead of `SplitMix64(seed:)`: the sequence this mutator has always drawn.
        random = SplitMix64(seed: seed &+ 0x9E37_79B9_7F4A_7C15)
        dictionary = Self.tokens(for: target).map { Array($0.utf8) }
    }

    private mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(random.next() % UInt64(n)) }

    /// The next input.
    public mutating func input() -> [UInt8] {
        var bytes = seeds[below(seeds.count)]
        for _ in 0...below(4) { mutate(&bytes) }
        if bytes.count > 1 << 18 { bytes.removeLast(bytes.count - (1 << 18)) }
        return bytes
    }

    private static let integers: [UInt64] = [
        0, 1, 2, 7, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 1 << 31, 1 << 40,
        UInt64(Int64.max), UInt64(bitPattern: -1), UInt64(bitPattern: Int64.min), 1_000_000_000
    ]

    private mutating func mutate(_ bytes: inout [UInt8]) {
        let position = below(bytes.count + 1)
        switch below(9) {
        case 0 where !bytes.isEmpty:
            bytes[min(position, bytes.count - 1)] ^= UInt8(1 << below(8))
        case 1 where !bytes.isEmpty:
            bytes[min(position, bytes.count - 1)] = [0, 0xFF, 0x7F, 0x80, 0x1B, 0x0A, 0x22, 0x5C][below(8)]
        case 2 where bytes.count >= 8:
            // An interesting little-endian integer of 1, 2, 4 or 8 bytes.
            let width = [1, 2, 4, 8][below(4)]
            let at = min(position, bytes.count - width)
            let value = Self.integers[below(Self.integers.count)]
            for k in 0..<width { bytes[at + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(k))) }
        case 3 where !dictionary.isEmpty:
            bytes.insert(contentsOf: dictionary[below(dictionary.count)], at: position)
        case 4 where !bytes.isEmpty:
            let end = min(bytes.count, position + 1 + below(16))
            bytes.removeSubrange(min(position, bytes.count - 1)..<end)
        case 5 where !bytes.isEmpty:
            // Repeat a short chunk many times: deep nesting, long chains, huge literals.
            let start = min(position, bytes.count - 1)
            let chunk = Array(bytes[start..<min(bytes.count, start + 1 + below(8))])
            let times = [2, 16, 128, 1024, 8192][below(5)]
            bytes.insert(contentsOf: Array([[UInt8]](repeating: chunk, count: times).joined()), at: start)
        case 6:
            let other = seeds[below(seeds.count)]
            let cut = below(other.count + 1)
            bytes = Array(bytes.prefix(position)) + Array(other.suffix(from: cut))
        case 7 where !bytes.isEmpty:
            let digits = Array(String(Self.integers[below(Self.integers.count)]).utf8)
            bytes.insert(contentsOf: (below(2) == 0 ? [0x2D] : []) + digits, at: position)
        default:
            bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
        }
    }

    /// Tokens worth inserting for each format.
    static func tokens(for target: FuzzTarget) -> [String] {
        switch target {
        case .jinja:
            return [
                "{{", "}}", "{%", "%}", "{#", "#}", "(", ")", "[", "]", "{", "}", " + ", " * ", " ** ", " // ", " % ",
                "|", "not ", " ~ ", "-", "range(", "9223372036854775807", "99999999999999999999",
                "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", "{% for i in range(100000) %}", "{% endfor %}",
                "{% if true %}", "{% endif %}", "|indent(", "|tojson(indent=", "|int", "|float", "|join(',')",
                "'nan'", "loop.index", "namespace(", "{% set x = ", "{% raw %}", "{% endraw %}", "\u{1B}[2J"
            ]
        case .gguf, .safetensors:
            return [
                "GGUF", "general.architecture", "llama", "gemma3", "qwen2", "block_count", "head_count_kv",
                "tokenizer.ggml.tokens", "tokenizer.chat_template", "F32", "dtype", "shape", "data_offsets", "\u{1B}"
            ]
        case .config:
            return [
                "\"num_hidden_layers\": ", "\"head_dim\": ", "\"num_key_value_heads\": 0", "\"rms_norm_eps\": ",
                "\"rope_theta\": \"x\"", "\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 1e308}", "1e999",
                "-1", "NaN", "\"model_type\": \"gemma3\"", "\"text_config\": {", "null", "[", "{", "\u{1B}"
            ]
        case .tokenizer:
            return [
                "\"added_tokens\": [{\"id\": -1, \"content\": \"x\"}]", "\"id\": 1099511627776", "\"vocab\": {",
                "\"merges\": [", "\"type\": \"BPE\"", "\"pre_tokenizer\": ", "\"normalizer\": ", "\\u0000", "\u{1B}"
            ]
        case .jsonl:
            return [
                "\r\n", "\n", "{\"messages\": [", "{\"text\": ", "{\"prompt\": ", "\u{FF}", "\"role\": ", "null", "[",
                "{"
            ]
        case .yaml:
            return [
                "&a ", "*a", "[", "{", "rank: 1000000000", "num_layers: 0", "lora_parameters:\n  ", "<<: *a", ": ",
                "\n- ", "~", "!!binary", "\u{1B}"
            ]
        case .judge:
            return ["{", "}", "\"sovereignty\": ", "\"privacy\": ", "/10", "1e309", "-", "NaN", "```json\n", "\"", "\\"]
        }
    }
}
