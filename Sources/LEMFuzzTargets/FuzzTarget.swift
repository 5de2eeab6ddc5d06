import Foundation
import LEMCore
import LEMEngine
import LEMFormats
import LEMScoring
import LEMTrainer

/// A parser that a stranger's file reaches, driven with arbitrary bytes.
///
/// Shared by the libFuzzer binary (`Fuzz/`, `Scripts/fuzz.sh`) and the short seeded mutation run
/// in the test suite. `run` returns a problem when a parser answered badly without crashing: an
/// error message over 4 KB or holding raw control characters. Crashes and hangs are the
/// harness's to notice.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// A GGUF file through `lem logits`: model files, configuration, tokenizer, chat template,
    /// model construction and one forward pass.
    case gguf
    /// A safetensors header and tensor table.
    case safetensors
    /// `config.json` into `ModelConfig`.
    case config
    /// `tokenizer.json`, then encoding and decoding a short text.
    case tokenizer
    /// A chat template: lexer, parser and interpreter.
    case jinja
    /// A training data split (`train.jsonl`).
    case jsonl
    /// A training YAML config.
    case yaml
    /// A judge model's reply.
    case judge

    /// The template limits the fuzzer renders under: the standard ones scaled down a hundredfold,
    /// so that inputs reach every limit's error path in milliseconds rather than the standard
    /// budget's half second (the limits are the code under test; their sizes are not).
    static let fuzzLimits: JinjaLimits = {
        var limits = JinjaLimits.standard
        limits.maxSteps /= 100
        limits.maxBytes /= 100
        limits.maxItems /= 100
        return limits
    }()

    /// Feeds `bytes` to the parser; `scratch` is a file path the target may write the bytes to.
    public func run(_ bytes: [UInt8], scratch: URL) -> String? {
        do {
            try body(bytes, scratch: scratch)
            return nil
        } catch {
            return Self.check("\(error)")
        }
    }

    /// The problem with an error message, nil when it is fine.
    public static func check(_ message: String) -> String? {
        if message.utf8.count > ErrorText.maxMessageBytes { return "error message of \(message.utf8.count) bytes" }
        if let c = message.unicodeScalars.first(where: {
            ($0.value < 0x20 && $0 != "\n" && $0 != "\t") || $0.value == 0x7F
        }) {
            return "error message holds control character U+\(String(c.value, radix: 16)): \(message.prefix(200))"
        }
        return nil
    }

    private func write(_ bytes: [UInt8], to url: URL) throws {
        try Data(bytes).write(to: url)
    }

    private func body(_ bytes: [UInt8], scratch: URL) throws {
        switch self {
        case .gguf:
            let url = scratch.appendingPathExtension("gguf")
            try write(bytes, to: url)
            let files = try ModelFiles.open(url)
            let tokenizer = try Tokenizer.load(from: url)
            if let template = try? ChatTemplate(tokenizer: tokenizer) {
                _ = try? template.render(messages: [ChatMessage(role: "user", content: "ab")])
            }
            let model = try ModelFactory.makeModel(files)
            let ids = try tokenizer.encode("abc ab", addSpecialTokens: true)
            if !ids.isEmpty { _ = try model.forward(tokens: Array(ids.prefix(8)), cache: model.makeCache()) }
        case .safetensors:
            let url = scratch.appendingPathExtension("safetensors")
            try write(bytes, to: url)
            let file = try SafetensorsFile(url: url)
            for name in file.names.prefix(4) {
                let t = try file.tensor(name)
                if t.rows > 0, t.columns > 0, t.columns <= 1 << 16 {
                    var row = [Float](repeating: 0, count: t.columns)
                    row.withUnsafeMutableBufferPointer { t.decodeRow(0, into: $0.baseAddress!) }
                }
            }
        case .config:
            _ = try ModelConfig(configJSON: Data(bytes), file: URL(fileURLWithPath: "fuzz/config.json"))
        case .tokenizer:
            let tokenizer = try Tokenizer.parse(json: Data(bytes), path: "fuzz/tokenizer.json")
            let ids = try tokenizer.encode("Hello wörld, <bos> 12", addSpecialTokens: true)
            _ = tokenizer.decode(ids)
        case .jinja:
            let template = try ChatTemplate(
                source: String(decoding: bytes, as: UTF8.self), bosToken: "<s>",
                eosToken: "</s>", origin: "fuzz.jinja", limits: Self.fuzzLimits)
            _ = try template.render(messages: [
                ChatMessage(role: "system", content: "Be brief."),
                ChatMessage(role: "user", content: "Hi")
            ])
        case .jsonl:
            let url = scratch.appendingPathExtension("jsonl")
            try write(bytes, to: url)
            _ = try DatasetSplit(file: url)
        case .yaml:
            let config = try TrainingConfig(yaml: String(decoding: bytes, as: UTF8.self), file: "fuzz.yaml")
            try config.validate()
        case .judge:
            _ = JudgeVerdict.parse(String(decoding: bytes, as: UTF8.self), dimensions: ["sovereignty", "privacy"])
        }
    }
}
