import ArgumentParser
import Foundation
import LEMApp
import LEMCore
import LEMEngine
import LEMFormats

/// `lem bench-speed`: prompt and generation speed of a model, or the machine's own bounds
/// (`--bandwidth`, `--sgemm`).
struct BenchSpeedCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-speed",
        abstract: "Measure prompt tokens/s, time to first token, generation tokens/s and peak memory of a model.",
        discussion: """
            The prompt is a fixed cycle of ordinary token ids (no tokenizer needed); generation is \
            greedy and ignores EOS, so every run decodes exactly --gen-tokens tokens. Figures are \
            medians of --runs wall-clock runs after one untimed warm-up token. --bandwidth and \
            --sgemm measure the machine instead (DRAM read GB/s; OpenBLAS sgemm GFLOP/s at prefill \
            shapes) so decode and prefill can be stated as a fraction of their bounds.
            """)

    @OptionGroup var model: ModelOption
    @Option(help: "Prompt length in tokens.") var promptTokens: Int = 128
    @Option(help: "Tokens to generate (greedy, EOS ignored).") var genTokens: Int = 64
    @Option(help: "Engine and OpenBLAS threads (default: LEM_THREADS, else the processor count).") var threads: Int?
    @Option(help: "Timed runs; the median is reported.") var runs: Int = 3
    @Option(help: "Prompt tokens per prefill forward pass.") var prefillChunk: Int = 512
    @Option(help: "Sequences decoded together, one forward pass per step for all (rates summed).") var batch: Int = 1
    @Option(
        help:
            "Tokens before the prompt; also times the first token with them loaded from a prompt-cache file (ttft_cached_ms)."
    ) var prefixTokens: Int = 0
    @Flag(
        help:
            "With --batch and --prefix-tokens: copy the shared prefix into each sequence's cache instead of sharing it (A/B)."
    ) var copyPrefix = false
    @Flag(help: "Print one JSON object instead of text.") var json = false
    @Flag(help: "Measure DRAM read bandwidth (GB/s) instead of a model.") var bandwidth = false
    @Option(help: "With --bandwidth: buffer size in MiB (≥ 1024 keeps it far out of cache).") var bandwidthMib: Int =
        1024
    @Flag(help: "Measure OpenBLAS sgemm GFLOP/s at prefill shapes instead of a model.") var sgemm = false
    @Option(help: "With --sgemm: comma-separated TOKENSxINxOUT shapes.") var shapes: String =
        "512x576x1536,512x640x2048,512x1152x6912"

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if promptTokens < 1 { throw ValidationError("--prompt-tokens must be at least 1") }
        if genTokens < 0 { throw ValidationError("--gen-tokens must be >= 0") }
        if runs < 1 { throw ValidationError("--runs must be at least 1") }
        if prefillChunk < 1 { throw ValidationError("--prefill-chunk must be at least 1") }
        if batch < 1 { throw ValidationError("--batch must be at least 1") }
        if prefixTokens < 0 { throw ValidationError("--prefix-tokens must be >= 0") }
        if bandwidthMib < 1 { throw ValidationError("--bandwidth-mib must be at least 1") }
        _ = try parsedShapes()
    }

    func run(in context: AppContext) async throws {
        if let threads { EngineThreads.set(threads) }
        let threadCount = EngineThreads.count
        if bandwidth || sgemm {
            try runMachine(threads: threadCount, environment: context.environment)
            return
        }
        let start = DispatchTime.now()
        let key = try model.key(in: context)
        let files = try ModelFiles.open(key.modelURL)
        let options = context.engineOptions
        let lm =
            try key.adapterURL.map {
                try ModelFactory.makeModel(
                    files, adapter: try InferenceAdapter(path: $0), adapterScale: key.scale, options: options)
            } ?? ModelFactory.makeModel(files, options: options)
        let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        var benchmark = SpeedBenchmark(
            promptTokens: promptTokens, genTokens: genTokens, runs: runs, prefillChunk: prefillChunk, batch: batch,
            prefixTokens: prefixTokens)
        benchmark.copyPrefix = copyPrefix
        if let message = benchmark.validationError(config: lm.config) { throw ValidationError(message) }
        let runs = try benchmark.run(model: lm) { index, result in
            if !json {
                let cached = result.cachedTimeToFirstTokenMs.map { String(format: " (cached prefix %.1f ms)", $0) }
                printError(
                    String(
                        format: "run %d: prompt %.1f tok/s, ttft %.1f ms", index + 1, result.promptTokensPerSecond,
                        result.timeToFirstTokenMs) + (cached ?? "")
                        + String(format: ", generation %.1f tok/s", result.generationTokensPerSecond))
            }
        }
        var inEffect = lm.options.resolved
        inEffect.threads = threadCount  // --threads, when given, over LEM_THREADS
        let report = SpeedReport(
            model: files.url.path, encodings: SpeedReport.encodings(of: files.tensors), threads: threadCount,
            options: inEffect, loadSeconds: loadSeconds, runs: runs, peakRSSMB: SpeedReport.peakResidentMB(),
            modelBytes: files.tensors.values.reduce(0) { $0 + $1.storedBytes },
            decodeBytesPerToken: SpeedReport.decodeBytesPerToken(tensors: files.tensors, config: files.config))
        print(json ? report.json() : report.text())
    }

    /// `--shapes` as (tokens, in, out) triples.
    func parsedShapes() throws -> [(tokens: Int, inFeatures: Int, outFeatures: Int)] {
        try shapes.split(separator: ",").map { part in
            let dims = part.lowercased().split(separator: "x").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard dims.count == 3, let t = dims[0], let k = dims[1], let n = dims[2], t > 0, k > 0, n > 0 else {
                throw ValidationError("--shapes: '\(part)' is not TOKENSxINxOUT with positive integers")
            }
            return (t, k, n)
        }
    }

    private func runMachine(threads: Int, environment: [String: String]) throws {
        var fields: [(String, String)] = [("threads", String(threads))]
        var lines: [String] = ["threads          \(threads)"]
        let core = BLASCore.summary(environment: environment)
        fields.append(("cpu_features", JSONText.quote(CPUFeatures.current.description)))
        lines.append("cpu features     \(CPUFeatures.current)")
        if bandwidth {
            let gbs = MachineSpeed.readBandwidth(threads: threads, bytes: bandwidthMib << 20)
            fields.append(("bandwidth_gb_per_s", String(format: "%.2f", gbs)))
            fields.append(("bandwidth_buffer_mib", String(bandwidthMib)))
            lines.append(String(format: "DRAM read        %.2f GB/s (%d MiB buffer, best of 5)", gbs, bandwidthMib))
        }
        if sgemm {
            fields.append(("openblas_core", JSONText.quote(BLASCore.current)))
            fields.append(("openblas_core_reason", JSONText.quote(core)))
            lines.append("OpenBLAS core    \(core)")
            var entries: [String] = []
            for shape in try parsedShapes() {
                let gflops = MachineSpeed.sgemm(
                    tokens: shape.tokens, inFeatures: shape.inFeatures, outFeatures: shape.outFeatures, threads: threads
                )
                let name = "\(shape.tokens)x\(shape.inFeatures)x\(shape.outFeatures)"
                entries.append("\"\(name)\": " + String(format: "%.2f", gflops))
                lines.append(String(format: "sgemm %@  %.1f GFLOP/s (tokens x in x out, best of 5)", name, gflops))
            }
            fields.append(("sgemm_gflops", "{" + entries.joined(separator: ", ") + "}"))
        }
        if json {
            print("{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
        } else {
            print(lines.joined(separator: "\n"))
        }
    }
}
