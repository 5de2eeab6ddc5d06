import Foundation
import LEMFormats
import TestSupport
import Testing

@testable import LEMEngine

/// The speed benchmark's bookkeeping (counts, greedy ids, validation, report shape) — never its
/// timings, which depend on the machine.
@Suite("SpeedBenchmark")
struct SpeedBenchmarkTests {
    @Test("the prompt has exactly N in-vocabulary ids, deterministic and varied")
    func promptIds() {
        for (count, vocab) in [(0, 40), (1, 40), (37, 40), (512, 49152), (300, 262_144), (5, 3)] {
            let ids = SpeedBenchmark.promptIds(count: count, vocabSize: vocab)
            #expect(ids.count == count)
            #expect(ids.allSatisfy { $0 >= 0 && $0 < vocab }, "vocab \(vocab): \(ids.prefix(8))")
            #expect(ids == SpeedBenchmark.promptIds(count: count, vocabSize: vocab))
            if count > 2 && vocab > 8 { #expect(Set(ids).count > 1) }
        }
        // The formula the Python comparison script repeats: base + (i·37) mod span.
        #expect(SpeedBenchmark.promptIds(count: 3, vocabSize: 49152) == [100, 137, 174])
    }

    @Test("every run prefills N tokens and decodes exactly M greedy tokens")
    func countsAndGreedyIds() throws {
        let model = try RandomModels.model("gemma3_text", sliding: true)
        let bench = SpeedBenchmark(promptTokens: 20, genTokens: 7, runs: 2, prefillChunk: 8)
        var seen: [Int] = []
        let runs = try bench.run(model: model) { index, _ in seen.append(index) }
        #expect(seen == [0, 1])
        #expect(runs.count == 2)
        // The reference: one prefill, then argmax fed back token by token.
        let prompt = SpeedBenchmark.promptIds(count: 20, vocabSize: model.config.vocabSize)
        let cache = model.makeCache()
        var next = Sampler.argmax(try model.forward(tokens: prompt, cache: cache, logits: .last))
        var expected: [Int] = []
        for _ in 0..<7 {
            next = Sampler.argmax(try model.forward(tokens: [next], cache: cache, logits: .last))
            expected.append(next)
        }
        for run in runs {
            #expect(run.promptTokens == 20)
            #expect(run.generatedTokens == 7)
            #expect(run.generatedIds == expected)
            #expect(run.prefillSeconds > 0 && run.firstTokenSeconds >= run.prefillSeconds)
            #expect(run.generationSeconds > 0)
        }
    }

    /// A report over `runs` and its JSON parsed.
    static func report(_ runs: [SpeedRun]) throws -> (SpeedReport, [String: Any]) {
        let report = SpeedReport(
            model: "m", encodings: [], threads: 1, options: EngineOptions(), loadSeconds: 0, runs: runs, peakRSSMB: 1,
            modelBytes: 1, decodeBytesPerToken: 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
        return (report, object)
    }

    @Test("a batch run decodes B sequences together: summed counts, the first sequence's ids as batch 1's")
    func batchRun() throws {
        let model = try RandomModels.model("gemma3_text", sliding: true)
        let single = try SpeedBenchmark(promptTokens: 12, genTokens: 6, runs: 1, prefillChunk: 8).run(model: model)
        let runs = try SpeedBenchmark(promptTokens: 12, genTokens: 6, runs: 2, prefillChunk: 8, batch: 3)
            .run(model: model)
        for run in runs {
            #expect(run.batch == 3)
            #expect(run.promptTokens == 36 && run.generatedTokens == 18)
            #expect(run.generatedIds == single[0].generatedIds)
        }
        let (_, object) = try Self.report(runs)
        #expect(object["batch"] as? Int == 3 && object["ttft_cached_ms"] == nil)
    }

    @Test("a cached prefix is timed from its prompt-cache file and reported as ttft_cached_ms")
    func cachedPrefix() throws {
        let model = try RandomModels.model("llama", sliding: false)
        let bench = SpeedBenchmark(promptTokens: 4, genTokens: 3, runs: 2, prefixTokens: 20)
        let runs = try bench.run(model: model)
        let plain = try SpeedBenchmark(promptTokens: 24, genTokens: 3, runs: 1).run(model: model)
        for run in runs {
            #expect(run.promptTokens == 24)
            #expect((run.cachedFirstTokenSeconds ?? 0) > 0)
            #expect(run.generatedIds == plain[0].generatedIds)
        }
        let (report, object) = try Self.report(runs)
        #expect((object["ttft_cached_ms"] as? Double ?? 0) > 0)
        #expect((object["runs_ttft_cached_ms"] as? [Double])?.count == 2)
        #expect(report.text().contains("from a cached prefix"))
        #expect(SpeedBenchmark(promptTokens: 1, prefixTokens: 8).validationError(config: model.config) != nil)
        #expect(SpeedBenchmark(batch: 0).validationError(config: model.config)?.contains("batch") == true)
    }

    @Test("zero generated tokens is a prefill-only run")
    func prefillOnly() throws {
        let model = try RandomModels.model("llama", sliding: false)
        let runs = try SpeedBenchmark(promptTokens: 5, genTokens: 0, runs: 1).run(model: model)
        #expect(runs.count == 1 && runs[0].generatedTokens == 0 && runs[0].generationTokensPerSecond == 0)
    }

    @Test("sizes beyond the context or below one are rejected with a message")
    func validation() throws {
        let model = try RandomModels.model("llama", sliding: false)  // context 64
        #expect(throws: GenerationError.self) { try SpeedBenchmark(promptTokens: 60, genTokens: 5).run(model: model) }
        #expect(throws: GenerationError.self) { try SpeedBenchmark(promptTokens: 0, genTokens: 5).run(model: model) }
        #expect(throws: GenerationError.self) {
            try SpeedBenchmark(promptTokens: 4, genTokens: 4, runs: 0).run(model: model)
        }
        let message = SpeedBenchmark(promptTokens: 60, genTokens: 5).validationError(config: model.config)
        #expect(message?.contains("context of 64") == true)
    }

    @Test("the JSON report starts with the four issue keys in order and parses")
    func jsonShape() throws {
        let run = SpeedRun(
            promptTokens: 128, prefillSeconds: 0.5, firstTokenSeconds: 0.51, generatedTokens: 64,
            generationSeconds: 2, generatedIds: [])
        let report = SpeedReport(
            model: "m \"q\".gguf", encodings: ["q4_K", "f32"], threads: 2,
            options: EngineOptions(vnni: false, q8Activations: true, eightRowKernels: false, prefill: .poolTiles),
            loadSeconds: 0.1,
            runs: [run, run, run], peakRSSMB: 300, modelBytes: 1000, decodeBytesPerToken: 900)
        let json = report.json()
        #expect(
            json.hasPrefix(
                "{\"prompt_tokens_per_s\": 256.000, \"gen_tokens_per_s\": 32.000, \"ttft_ms\": 510.000, \"peak_rss_mb\": 300.000, "
            ))
        let parsed = try JSONSerialization.jsonObject(with: Data(json.utf8))
        let object = try #require(parsed as? [String: Any])
        #expect(object["model"] as? String == "m \"q\".gguf")
        #expect(object["runs"] as? Int == 3)
        #expect((object["runs_gen_tokens_per_s"] as? [Double])?.count == 3)
        #expect(object["decode_bytes_per_token"] as? Int == 900)
        let options = try #require(object["options"] as? [String: Any])
        #expect(options["q8_activations"] as? Bool == true && options["dot8"] as? Bool == false)
        #expect(options["simd"] as? Bool == true && options["x8"] as? Bool == true)
        #expect(options["vnni"] as? Bool == false && options["kernels"] as? String == "avx2")
        #expect(options["fused_matvec"] as? Bool == true && options["prefill"] as? String == "pool")
        #expect(report.text().contains("32.0 tok/s"))
        let kernels = "kernels          AVX2, 8-bit activations, x8 copies, fused matvecs, one-row decode, prefill pool"
        #expect(report.text().contains(kernels))
    }

    @Test("median of odd and even counts")
    func median() {
        #expect(SpeedReport.median([]) == 0)
        #expect(SpeedReport.median([3, 1, 2]) == 2)
        #expect(SpeedReport.median([4, 1, 2, 3]) == 2.5)
    }

    @Test("bytes per decoded token: a tied embedding is read whole, an untied one row")
    func decodeBytes() {
        let config = RandomModels.config("llama", sliding: false)
        var tensors = RandomModels.tensors(for: config, seed: 3)
        let all = tensors.values.reduce(0) { $0 + $1.storedBytes }
        #expect(SpeedReport.decodeBytesPerToken(tensors: tensors, config: config) == all)
        let embedding = tensors["model.embed_tokens.weight"]!
        tensors["lm_head.weight"] = embedding
        let rowBytes = embedding.storedBytes / embedding.rows
        #expect(SpeedReport.decodeBytesPerToken(tensors: tensors, config: config) == all + rowBytes)
        #expect(SpeedReport.encodings(of: tensors) == ["f32"])
    }

    @Test("the fixture MLX 4-bit model benchmarks through ModelFiles")
    func fixtureModel() throws {
        let files = try ModelFiles.open(TestPaths.fixture("engine/gemma3_tiny-mlx4"))
        let model = try ModelFactory.makeModel(files)
        let runs = try SpeedBenchmark(promptTokens: 9, genTokens: 4, runs: 1).run(model: model)
        #expect(runs.map(\.generatedIds.count) == [4])
        #expect(SpeedReport.encodings(of: files.tensors).first?.hasPrefix("mlx4") == true)
        let perToken = SpeedReport.decodeBytesPerToken(tensors: files.tensors, config: files.config)
        #expect(perToken > 0 && perToken <= files.tensors.values.reduce(0) { $0 + $1.storedBytes })
    }

    @Test("options without a thread count leave the pool's as it is")
    func threadDefaults() {
        let before = EngineThreads.count
        #expect(before >= 1)
        EngineThreads.apply(EngineOptions())
        #expect(EngineThreads.count == before)
        #expect(EngineOptions().resolved.threads == before)
    }

    @Test("machine measurements return positive figures on tiny sizes")
    func machineSpeed() {
        #expect(MachineSpeed.readBandwidth(threads: 2, bytes: 1 << 20, repeats: 1) > 0)
        let before = EngineThreads.count
        #expect(MachineSpeed.sgemm(tokens: 8, inFeatures: 16, outFeatures: 32, threads: before, repeats: 1) > 0)
        #expect(EngineThreads.count == before)
    }
}
