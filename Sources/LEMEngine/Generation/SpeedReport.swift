import Foundation
import LEMCore
import LEMFormats

/// The result of a `SpeedBenchmark` on one model: medians over the runs plus what is needed to
/// relate them to the machine (thread count, peak memory, bytes read per decoded token).
public struct SpeedReport: Sendable {
    /// The model file or directory measured.
    public var model: String
    /// The weights' storage encodings, most bytes first (e.g. `q4_K, q6_K, f32`).
    public var encodings: [String]
    /// Engine threads during the runs.
    public var threads: Int
    /// The engine options the model ran with, as they took effect (`EngineOptions.resolved`).
    public var options: EngineOptions
    /// Seconds to open the model and build it.
    public var loadSeconds: Double
    /// Every timed run.
    public var runs: [SpeedRun]
    /// Peak resident memory of the process in MiB (VmHWM), measured after the runs.
    public var peakRSSMB: Double
    /// Stored bytes of all tensors.
    public var modelBytes: Int
    /// Stored bytes a decode step reads (see `decodeBytesPerToken(tensors:config:)`).
    public var decodeBytesPerToken: Int

    /// Creates a report.
    public init(
        model: String, encodings: [String], threads: Int, options: EngineOptions, loadSeconds: Double, runs: [SpeedRun],
        peakRSSMB: Double, modelBytes: Int, decodeBytesPerToken: Int
    ) {
        self.model = model
        self.encodings = encodings
        self.threads = threads
        self.options = options
        self.loadSeconds = loadSeconds
        self.runs = runs
        self.peakRSSMB = peakRSSMB
        self.modelBytes = modelBytes
        self.decodeBytesPerToken = decodeBytesPerToken
    }

    /// Median prompt tokens/s over the runs.
    public var promptTokensPerSecond: Double { Self.median(runs.map(\.promptTokensPerSecond)) }
    /// Median generation tokens/s over the runs.
    public var generationTokensPerSecond: Double { Self.median(runs.map(\.generationTokensPerSecond)) }
    /// Median time to first token, ms.
    public var timeToFirstTokenMs: Double { Self.median(runs.map(\.timeToFirstTokenMs)) }
    /// Median time to first token from a cached prefix, ms; nil when not measured.
    public var cachedTimeToFirstTokenMs: Double? {
        let values = runs.compactMap(\.cachedTimeToFirstTokenMs)
        return values.isEmpty ? nil : Self.median(values)
    }
    /// Sequences decoded together.
    public var batch: Int { runs.first?.batch ?? 1 }

    /// The middle value (mean of the two middle ones for an even count); 0 for none.
    public static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }

    /// The report as one JSON object whose first four keys are exactly `prompt_tokens_per_s`,
    /// `gen_tokens_per_s`, `ttft_ms`, `peak_rss_mb`, followed by details (`batch`; with a cached
    /// prefix, `ttft_cached_ms` last).
    public func json() -> String {
        func number(_ x: Double) -> String { x.isFinite ? String(format: "%.3f", x) : "null" }
        func list(_ xs: [Double]) -> String { "[" + xs.map(number).joined(separator: ", ") + "]" }
        var fields: [(String, String)] = [
            ("prompt_tokens_per_s", number(promptTokensPerSecond)),
            ("gen_tokens_per_s", number(generationTokensPerSecond)),
            ("ttft_ms", number(timeToFirstTokenMs)),
            ("peak_rss_mb", number(peakRSSMB)),
            ("batch", String(batch)),
            ("model", JSONText.quote(model)),
            ("encodings", "[" + encodings.map(JSONText.quote).joined(separator: ", ") + "]"),
            ("threads", String(threads)),
            ("options", optionsJSON),
            ("prompt_tokens", String(runs.first?.promptTokens ?? 0)),
            ("gen_tokens", String(runs.first?.generatedTokens ?? 0)),
            ("runs", String(runs.count)),
            ("load_s", number(loadSeconds)),
            ("model_bytes", String(modelBytes)),
            ("decode_bytes_per_token", String(decodeBytesPerToken)),
            ("runs_prompt_tokens_per_s", list(runs.map(\.promptTokensPerSecond))),
            ("runs_gen_tokens_per_s", list(runs.map(\.generationTokensPerSecond))),
            ("runs_ttft_ms", list(runs.map(\.timeToFirstTokenMs)))
        ]
        if let cached = cachedTimeToFirstTokenMs {
            fields.append(("ttft_cached_ms", number(cached)))
            fields.append(("runs_ttft_cached_ms", list(runs.compactMap(\.cachedTimeToFirstTokenMs))))
        }
        return "{" + fields.map { "\(JSONText.quote($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
    }

    /// The report as aligned text lines.
    public func text() -> String {
        func f(_ x: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", x) }
        let mb = Double(decodeBytesPerToken) / 1e6
        return """
            model            \(model)
            encodings        \(encodings.joined(separator: ", "))
            threads          \(threads)
            kernels          \(kernelSummary)
            load             \(f(loadSeconds, 2)) s
            prompt           \(runs.first?.promptTokens ?? 0) tokens: \(f(promptTokensPerSecond)) tok/s (runs: \(runs.map { f($0.promptTokensPerSecond) }.joined(separator: ", ")))
            time to first    \(f(timeToFirstTokenMs)) ms\(cachedTimeToFirstTokenMs.map { ", \(f($0)) ms from a cached prefix" } ?? "")
            batch            \(batch) sequence\(batch == 1 ? "" : "s") (counts and rates summed)
            generation       \(runs.first?.generatedTokens ?? 0) tokens: \(f(generationTokensPerSecond)) tok/s (runs: \(runs.map { f($0.generationTokensPerSecond) }.joined(separator: ", ")))
            peak RSS         \(f(peakRSSMB)) MiB
            weights          \(f(Double(modelBytes) / 1e6)) MB stored, \(f(mb)) MB read per decoded token
            """
    }
}

extension SpeedReport {
    /// The options as one JSON object: `simd`, `vnni`, `q8_activations`, `x8`, `fused_matvec`,
    /// `dot8` (booleans), `kernels` (the instruction set the 8-bit dots run on: avx512-vnni, avx2 or
    /// scalar) and `prefill` (dots, gemm, pool or blas).
    var optionsJSON: String {
        let fields = [
            ("simd", String(options.simd)), ("vnni", String(options.vnni)),
            ("kernels", JSONText.quote(instructionSet)), ("q8_activations", String(options.q8Activations)),
            ("x8", String(options.interleaveWeights)), ("fused_matvec", String(options.fuseMatvecs)),
            ("dot8", String(options.eightRowKernels)), ("prefill", JSONText.quote(options.prefill.variableValue))
        ]
        return "{" + fields.map { "\(JSONText.quote($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
    }

    /// The instruction set the 8-bit dots run on under these (resolved) options.
    var instructionSet: String { options.vnni ? "avx512-vnni" : options.simd ? "avx2" : "scalar" }

    /// The options in a few words, e.g. `AVX512-VNNI, 8-bit activations, x8 copies, fused matvecs,
    /// eight-row decode, prefill gemm`.
    var kernelSummary: String {
        [
            instructionSet.uppercased(), options.q8Activations ? "8-bit activations" : "f32 activations",
            options.interleaveWeights ? "x8 copies" : "stored layout",
            options.fuseMatvecs ? "fused matvecs" : "unfused",
            options.eightRowKernels ? "eight-row decode" : "one-row decode", "prefill \(options.prefill.variableValue)"
        ].joined(separator: ", ")
    }

    /// Stored bytes one decode step reads: every matrix and vector in full, except the token
    /// embedding, of which only one row is read — unless it doubles as the output head (tied),
    /// which reads it whole — and a mixture of experts' tensors (`mlp.experts.`), of which a token
    /// reads its k of E experts. Dividing a DRAM read bandwidth by this gives the decode bound.
    public static func decodeBytesPerToken(tensors: [String: any WeightTensor], config: ModelConfig) -> Int {
        let embeddingName = "model.embed_tokens.weight"
        let tied = tensors["lm_head.weight"] == nil
        var total = 0
        for (name, tensor) in tensors {
            if name == embeddingName && !tied {
                total += tensor.storedBytes / max(1, tensor.rows)
            } else if let experts = config.experts, name.contains(".mlp.experts.") {
                total += tensor.storedBytes / max(1, experts.count) * experts.perToken
            } else {
                total += tensor.storedBytes
            }
        }
        return total
    }

    /// Storage encodings of `tensors`, ordered by the bytes they hold, most first.
    public static func encodings(of tensors: [String: any WeightTensor]) -> [String] {
        var bytes: [String: Int] = [:]
        for tensor in tensors.values { bytes[tensor.encoding, default: 0] += tensor.storedBytes }
        return bytes.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map(\.key)
    }

    /// The process's peak resident set in MiB: `VmHWM` from `/proc/self/status`, else
    /// `getrusage`'s `ru_maxrss` (KiB on Linux).
    public static func peakResidentMB() -> Double {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) {
            for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
                let digits = line.dropFirst("VmHWM:".count).filter(\.isNumber)
                if let kib = Double(String(digits)) { return kib / 1024 }
            }
        }
        var usage = rusage()
        guard getrusage(Int32(RUSAGE_SELF.rawValue), &usage) == 0 else { return 0 }
        return Double(usage.ru_maxrss) / 1024
    }
}
