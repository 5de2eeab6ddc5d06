import Foundation
import LEMFuzzTargets
import TestSupport
import Testing

/// A short, seeded mutation run over every parser a downloaded file reaches: the seeds of
/// `Fuzz/Corpus/<target>` mutated a few thousand times each. No input may crash, hang or give an
/// error message over 4 KB or with raw control characters. The long runs are `Scripts/fuzz.sh`.
@Suite("Fuzz targets, short seeded run")
struct FuzzTargetTests {
    /// Mutations per target: about 0.3 s each on one core of the 2-core CI machine (1.8 ms per
    /// safetensors or JSONL input, which go through a file; 0.06 ms per judge reply), so the
    /// suite spends ~3 s here instead of ~10 s. Enough to reach each parser's error paths with
    /// a fixed seed; the millions of executions are `Scripts/fuzz.sh`'s.
    static let inputs: [FuzzTarget: Int] = [
        .gguf: 150, .safetensors: 200, .config: 600, .tokenizer: 1_000, .jinja: 400, .jsonl: 200, .yaml: 500,
        .judge: 1_000
    ]

    static func seeds(_ target: FuzzTarget) -> [[UInt8]] {
        let folder = TestPaths.repoRoot.appendingPathComponent("Fuzz/Corpus/\(target.rawValue)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.sorted().compactMap { try? Array(Data(contentsOf: folder.appendingPathComponent($0))) }
    }

    @Test("seeded mutations end cleanly", arguments: FuzzTarget.allCases)
    func mutations(_ target: FuzzTarget) throws {
        let seeds = Self.seeds(target)
        #expect(!seeds.isEmpty, "no seeds in Fuzz/Corpus/\(target.rawValue)")
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("lem-fuzz-test-\(getpid())-\(target.rawValue)")
        defer {
            for ext in ["gguf", "safetensors", "jsonl"] {
                try? FileManager.default.removeItem(at: scratch.appendingPathExtension(ext))
            }
        }
        // Every seed must be a valid input: a broken seed would make the run meaningless.
        for seed in seeds {
            if let problem = target.run(seed, scratch: scratch) { Issue.record("seed: \(problem)") }
        }
        var mutator = FuzzMutator(seeds: seeds, target: target, seed: 20_240_601)
        let count = Self.inputs[target] ?? 300
        var slowest = 0.0
        for k in 0..<count {
            let input = mutator.input()
            let started = Date()
            if let problem = target.run(input, scratch: scratch) {
                Issue.record("input \(k) (\(input.count) bytes): \(problem)")
            }
            slowest = max(slowest, Date().timeIntervalSince(started))
        }
        #expect(slowest < 10, "slowest input took \(slowest) s")
    }
}
