import Foundation
import LEMFormats
import TestSupport
import Testing

@testable import LEMTrainer

/// Minimal reproducers of hostile training inputs: YAML alias bombs, deep nesting, CRLF and
/// non-UTF-8 JSONL lines.
@Suite struct HostileTrainingInputTests {
    func message(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "no error"
        } catch {
            return (error as? LocalizedError)?.errorDescription ?? "\(error)"
        }
    }

    @Test("a YAML alias bomb is refused at once")
    func billionLaughs() {
        var yaml = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for k in 1..<10 {
            yaml += "a\(k): &a\(k) [" + Array(repeating: "*a\(k - 1)", count: 9).joined(separator: ", ") + "]\n"
        }
        let started = Date()
        let m = message { _ = try TrainingConfig(yaml: yaml, file: "bomb.yaml") }
        #expect(m.hasPrefix("bomb.yaml:2: ") && m.contains("aliases (*name) are not supported"), "\(m)")
        let spread = "a: &x [1, 2]\nb:\n  - *x\n"
        #expect(message { _ = try TrainingConfig(yaml: spread, file: "s.yaml") }.hasPrefix("s.yaml:3: YAML aliases"))
        #expect(
            message { _ = try TrainingConfig(yaml: "adapter_path: 'a*b'\nseed: 1 # *c", file: "ok.yaml") } == "no error"
        )
        #expect(Date().timeIntervalSince(started) < 2)
    }

    @Test("YAML nesting and size are bounded before parsing")
    func yamlBounds() {
        let deep = "x: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(message { _ = try TrainingConfig(yaml: deep, file: "deep.yaml") }.contains("nested deeper than"))
        let big = "x: '" + String(repeating: "a", count: 2 << 20) + "'"
        #expect(message { _ = try TrainingConfig(yaml: big, file: "big.yaml") }.contains("more than a config may have"))
        #expect(
            message { _ = try TrainingConfig(yaml: "seed: 3 # [[[[\nnum_layers: '[[['", file: "ok.yaml") }
                .contains("num_layers"))
    }

    func split(_ bytes: [UInt8]) throws -> DatasetSplit {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "lem-hostile-\(UUID().uuidString).jsonl")
        try Data(bytes).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        return try DatasetSplit(file: url)
    }

    @Test("JSONL with CRLF line ends reads as Python's json.loads does")
    func crlf() throws {
        let s = try split(Array("{\"text\": \"a\"}\r\n{\"text\": \"b\"}\r\n\r\n{\"text\": \"c\"}".utf8))
        #expect(s.records.map(\.line) == [1, 2, 4])
        #expect(s.records.map(\.example) == [.text("a"), .text("b"), .text("c")])
    }

    @Test("a non-UTF-8 byte is reported on its line; an unreadable file without a line")
    func badBytes() throws {
        let m = message { _ = try split(Array("{\"text\": \"a\"}\n{\"text\": \"\u{e9}".utf8) + [0xFF, 0x22, 0x7D]) }
        #expect(m.hasSuffix(":2: not UTF-8 text (bad byte at column 13)"), "\(m)")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "lem-hostile-dir-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let unreadable = message { _ = try DatasetSplit(file: folder) }
        #expect(unreadable.hasPrefix(folder.path + ": cannot read"), "\(unreadable)")
    }

    @Test("a LoRA rank of 10^9 is refused before A and B are allocated")
    func hugeRank() throws {
        let files = try ModelFiles.open(TestPaths.fixture("engine/qwen2_tiny"))
        let model = try TrainableTransformer<Float>(config: files.config, tensors: files.tensors)
        var random = SystemRandomNumberGenerator()
        let m = message {
            _ = try model.makeAdapter(parameters: .init(rank: 1_000_000_000, scale: 20), numLayers: 1, using: &random)
        }
        #expect(m.contains("lora_parameters.rank") && m.contains("1000000000"), "\(m)")
    }

    @Test("warnings: no validation set, num_layers 0, a resumed adapter over other layers")
    func warnings() throws {
        let files = try ModelFiles.open(TestPaths.fixture("engine/qwen2_tiny"))
        let model = try TrainableTransformer<Float>(config: files.config, tensors: files.tensors)
        var random = SystemRandomNumberGenerator()
        let adapter = try model.makeAdapter(parameters: .init(rank: 2, scale: 20), numLayers: 1, using: &random)
        var config = TrainingConfig()
        config.numLayers = 1
        #expect(LoRATraining.warnings(config: config, adapter: adapter, model: model, hasValidation: true).isEmpty)
        let noValid = LoRATraining.warnings(config: config, adapter: adapter, model: model, hasValidation: false)
        #expect(noValid.count == 1 && noValid[0].contains("no validation set"))
        config.numLayers = -1
        let other = LoRATraining.warnings(config: config, adapter: adapter, model: model, hasValidation: true)
        #expect(model.blockCount == 1 || other.first?.contains("the adapter adapts layers") == true, "\(other)")
        config.numLayers = 0
        #expect(
            LoRATraining.warnings(config: config, adapter: adapter, model: model, hasValidation: true)
                .contains { $0.contains("num_layers is 0") })
    }
}
