import Foundation

/// How the engine computes: which kernels a model's products use and how its weights are laid
/// out, as one value a model is built with (`ModelFactory.makeModel(..., options:)`) and a kernel
/// call takes (`options:`).
///
/// Two models with different options can run at the same time in one process, each getting its
/// own numbers; nothing here is a process-wide switch except `threads`, which sizes the one
/// kernel pool (`EngineThreads.apply`). `EngineOptions()` is the library default: exact f32
/// activations, the mode the reference tests hold to transformers. The `lem` program reads its
/// options from the environment once (`init(environment:)`), where 8-bit activations are on.
public struct EngineOptions: Sendable, Hashable {
    /// Threads of the kernel pool, the calling thread included; nil (default): the pool's count,
    /// one per online CPU (at most 64) unless set. Process-wide: `EngineThreads.apply` hands it to
    /// the pool, and the trainer splits its products over this many threads. `LEM_THREADS`.
    public var threads: Int?
    /// Whether the AVX2 + FMA + F16C kernels may be used (default true); they run only where the
    /// CPU has them (`Kernels.cpuHasSIMD`). false: the portable scalar kernels, same block
    /// arithmetic (what tests compare the two paths with).
    public var simd: Bool
    /// Whether, with `simd`, the 8-bit decode dots and the 8-bit prefill may use their AVX-512 VNNI
    /// variants (default true): they run only where the CPU has AVX-512 F, BW, VL and VNNI
    /// (`Kernels.cpuHasVNNI`) and give the AVX2 variants' results bit for bit, so false only
    /// makes A/B runs. `LEM_VNNI`.
    public var vnni: Bool
    /// Whether quantized weights are dotted against the activation rounded to 8-bit blocks of 32
    /// (llama.cpp's way, fastest; logits move by the rounding) rather than exactly in f32 (each row
    /// dequantized, then an f32 dot). Default false here; the `lem` program's default is true.
    /// `LEM_Q8_ACTIVATIONS`.
    public var q8Activations: Bool
    /// Whether Q4_0 / Q4_1 / Q5_0 / Q8_0 / MLX 4-bit matrices get a row-interleaved copy for decode
    /// at load (`InterleavedWeight`, Sources/CLEMKernels/dot_x8.c; default true). Only with the
    /// AVX2 kernels, which are the ones that read it. `LEM_X8`.
    public var interleaveWeights: Bool
    /// Whether q/k/v and gate/up run as one pool run each for a single token (`FusedLinears`,
    /// bit-identical to the separate matvecs; default true). `LEM_FUSED_MATVEC`.
    public var fuseMatvecs: Bool
    /// Whether the AVX2 decode kernels dot eight rows per call where an eight-row body exists,
    /// prefetching the next group (default true), rather than one row per call. `LEM_DOT8`.
    public var eightRowKernels: Bool
    /// How a chunk of several tokens is multiplied (default `.integerDots`). `LEM_PREFILL`.
    public var prefill: Kernels.PrefillStrategy
    /// The most bytes of computed prefixes kept for reuse (`PrefixCache`): one cache per model
    /// pool, or per model loaded outside a pool; 0 keeps none. Default 512 MiB.
    /// `LEM_PREFIX_CACHE_MB` (in MiB).
    public var prefixCacheBytes: Int

    /// The default `prefixCacheBytes`: 512 MiB.
    public static let defaultPrefixCacheBytes = 512 << 20

    /// Options with the given fields; every default is the library default described at the field.
    public init(
        threads: Int? = nil, simd: Bool = true, vnni: Bool = true, q8Activations: Bool = false,
        interleaveWeights: Bool = true,
        fuseMatvecs: Bool = true, eightRowKernels: Bool = true, prefill: Kernels.PrefillStrategy = .integerDots,
        prefixCacheBytes: Int = EngineOptions.defaultPrefixCacheBytes
    ) {
        self.prefixCacheBytes = max(0, prefixCacheBytes)
        self.threads = threads
        self.simd = simd
        self.vnni = vnni
        self.q8Activations = q8Activations
        self.interleaveWeights = interleaveWeights
        self.fuseMatvecs = fuseMatvecs
        self.eightRowKernels = eightRowKernels
        self.prefill = prefill
    }

    /// These options as they take effect on this machine: SIMD off where the CPU lacks AVX2 + FMA
    /// + F16C, VNNI off without SIMD or where the CPU lacks it, no interleaved copies without SIMD
    /// (the scalar kernels read the stored layout), and the pool's thread count when `threads` is
    /// nil.
    public var resolved: EngineOptions {
        var options = self
        options.simd = simd && Kernels.cpuHasSIMD
        options.vnni = vnni && options.simd && Kernels.cpuHasVNNI
        options.interleaveWeights = interleaveWeights && options.simd
        options.threads = threads ?? EngineThreads.count
        return options
    }
}

extension EngineOptions {
    /// An environment variable whose value `init(environment:)` cannot read.
    public struct EnvironmentError: Error, Equatable, CustomStringConvertible {
        /// The variable's name.
        public let variable: String
        /// Its value as found.
        public let value: String
        /// What it may be.
        public let expected: String

        public var description: String { "\(variable)=\"\(value)\" is not understood: expected \(expected)" }
    }

    /// The environment variables `init(environment:)` reads.
    public static let environmentVariables = [
        "LEM_THREADS", "LEM_VNNI", "LEM_Q8_ACTIVATIONS", "LEM_X8", "LEM_DOT8", "LEM_FUSED_MATVEC", "LEM_PREFILL",
        "LEM_PREFIX_CACHE_MB"
    ]

    /// The options of the `lem` program: the library defaults with 8-bit activations on, then each
    /// variable of `environment` that is set and not empty.
    ///
    /// `LEM_THREADS` a positive integer; `LEM_VNNI`, `LEM_Q8_ACTIVATIONS`, `LEM_X8`, `LEM_DOT8`,
    /// `LEM_FUSED_MATVEC` 0 or 1; `LEM_PREFILL` dots, gemm, pool or blas; `LEM_PREFIX_CACHE_MB` a
    /// whole number of MiB, 0 for none (surrounding spaces ignored).
    /// Any other value throws, naming the variable and what it may be. Only the dictionary given
    /// is read, never the process's environment.
    public init(environment: [String: String]) throws(EnvironmentError) {
        self.init(q8Activations: true)
        func value(_ name: String) -> String? {
            guard let text = environment[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
            return text
        }
        func flag(_ name: String) throws(EnvironmentError) -> Bool? {
            guard let text = value(name) else { return nil }
            switch text {
            case "0": return false
            case "1": return true
            default: throw EnvironmentError(variable: name, value: environment[name]!, expected: "0 or 1")
            }
        }
        if let text = value("LEM_THREADS") {
            guard let count = Int(text), count > 0 else {
                throw EnvironmentError(
                    variable: "LEM_THREADS", value: environment["LEM_THREADS"]!,
                    expected: "a positive integer (kernel threads, the calling thread included)")
            }
            threads = count
        }
        if let on = try flag("LEM_VNNI") { vnni = on }
        if let on = try flag("LEM_Q8_ACTIVATIONS") { q8Activations = on }
        if let on = try flag("LEM_X8") { interleaveWeights = on }
        if let on = try flag("LEM_DOT8") { eightRowKernels = on }
        if let on = try flag("LEM_FUSED_MATVEC") { fuseMatvecs = on }
        if let text = value("LEM_PREFILL") {
            guard let strategy = Kernels.PrefillStrategy(variableValue: text) else {
                throw EnvironmentError(
                    variable: "LEM_PREFILL", value: environment["LEM_PREFILL"]!, expected: "dots, gemm, pool or blas")
            }
            prefill = strategy
        }
        if let text = value("LEM_PREFIX_CACHE_MB") {
            guard let mib = Int(text), mib >= 0, mib <= 1 << 30 else {
                throw EnvironmentError(
                    variable: "LEM_PREFIX_CACHE_MB", value: environment["LEM_PREFIX_CACHE_MB"]!,
                    expected: "a whole number of MiB (0 keeps no prefixes)")
            }
            prefixCacheBytes = mib << 20
        }
    }

    /// The variables that give these options through `init(environment:)` (SIMD has none: it is
    /// on wherever the CPU has it).
    public var environment: [String: String] {
        var variables = [
            "LEM_VNNI": vnni ? "1" : "0", "LEM_Q8_ACTIVATIONS": q8Activations ? "1" : "0",
            "LEM_X8": interleaveWeights ? "1" : "0",
            "LEM_DOT8": eightRowKernels ? "1" : "0", "LEM_FUSED_MATVEC": fuseMatvecs ? "1" : "0",
            "LEM_PREFILL": prefill.variableValue, "LEM_PREFIX_CACHE_MB": String(prefixCacheBytes >> 20)
        ]
        if let threads { variables["LEM_THREADS"] = String(threads) }
        return variables
    }
}

extension Kernels.PrefillStrategy {
    /// The strategy's `LEM_PREFILL` value: dots, gemm, pool or blas.
    public var variableValue: String {
        switch self {
        case .integerDots: "dots"
        case .fusedGemm: "gemm"
        case .poolTiles: "pool"
        case .blasThreads: "blas"
        }
    }

    /// The strategy a `LEM_PREFILL` value names, nil for any other text.
    public init?(variableValue: String) {
        let strategies: [Self] = [.integerDots, .fusedGemm, .poolTiles, .blasThreads]
        guard let strategy = strategies.first(where: { $0.variableValue == variableValue }) else { return nil }
        self = strategy
    }
}
